#!/usr/bin/env bash
# Runs the fuzz targets built in a fuzz build directory (./duet fuzz and
# ./duet test fuzz call this after `make fuzz` there).
#
#   run.sh BUILD [TARGET|all] [SECONDS]  fuzz each target for SECONDS (60)
#   run.sh --suite BUILD [SECONDS]       replay every corpus, then fuzz each
#                                        target for SECONDS (8); ends with
#                                        "fuzz: N passed, N failed"
#
# A run grows a working corpus in BUILD/work/NAME from the committed seeds
# (the tree's corpus is only read); findings land in BUILD/findings/.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

targets() { sed -n 's/^\([a-z0-9_][a-z0-9_]*\).*/\1/p' "$here/targets"; }

# fuzz NAME LOG LIBFUZZER-ARGS...
fuzz() {
	local t=$1 log=$2
	shift 2
	local -a dict=()
	[[ ! -f $here/$t.dict ]] || dict=(-dict="$here/$t.dict")
	mkdir -p "$build/work/$t" "$build/findings"
	"$build/tests/fuzz/${t}_fuzz" -artifact_prefix="$build/findings/$t-" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"${dict[@]+"${dict[@]}"}" "$@" "$build/work/$t" "$here/corpus/$t" \
		>"$log" 2>&1
}

# The campaign's numbers from a run's log: executions, edges, corpus.
numbers() {
	local runs cov
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$1" | tail -n 1)
	echo "${runs:-?} executions, ${cov#cov: } edges"
}

suite=
if [[ ${1:-} == --suite ]]; then
	suite=1
	shift
fi
[[ $# -ge 1 ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
build=$1
want=${2:-all}
secs=${3:-60}
[[ -n $suite ]] && { secs=${2:-8}; want=all; }
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz: '$secs' is not a number of seconds" >&2; exit 2; }
if [[ $want != all ]] && ! targets | grep -qx "$want"; then
	echo "fuzz: unknown target '$want' (targets: $(targets | xargs))" >&2
	exit 2
fi

passed=0 failed=0
for t in $(targets); do
	[[ $want == all || $want == "$t" ]] || continue
	log=$build/fuzz-$t.log
	ok=1
	if [[ -n $suite ]] && ! "$build/tests/fuzz/${t}_fuzz" -runs=0 \
		"$here/corpus/$t" >"$log.replay" 2>&1; then
		ok=
		tail -n 30 "$log.replay" >&2
	fi
	if [[ -n $ok ]] && ! fuzz "$t" "$log" -max_total_time="$secs"; then
		ok=
		tail -n 40 "$log" >&2
	fi
	if [[ -n $ok ]]; then
		passed=$((passed + 1))
		echo "fuzz: $t: ${secs}s, $(numbers "$log"), no finding" >&2
	else
		failed=$((failed + 1))
		echo "fuzz: $t: FINDING; see $log and $build/findings/" >&2
	fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
