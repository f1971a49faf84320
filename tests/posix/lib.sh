# TAP helpers for process tests. Source it, call check/skip, then finish.
# Expects top_srcdir and top_builddir in the environment (make check sets
# them).
: "${top_builddir:?run through make check}"
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
finish() { echo "1..$tap_n"; exit 0; }

# need TOOL...: skips the whole test unless every TOOL is installed.
need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			skip_all "$tool not installed (apt-get install $tool, or ./duet deps)"
	done
}

# check NAME WANT_STATUS PATTERN -- COMMAND...
# Runs COMMAND (bounded to 30 s), expects its exit status and, if PATTERN is
# not empty, a line of its output matching the extended regex PATTERN.
check() {
	name=$1 want=$2 pattern=$3
	shift 4
	out=$(timeout 30 "$@" 2>&1)
	status=$?
	if [ "$status" -ne "$want" ]; then
		not_ok "$name" "exit status $status, wanted $want" "$out"
	elif [ -n "$pattern" ] && ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
		not_ok "$name" "no output line matches: $pattern" "$out"
	else
		ok "$name"
	fi
}

# wait_for LOG PATTERN [PID]: waits up to 10 s for a line of LOG matching the
# extended regex PATTERN; gives up at once if process PID has ended.
wait_for() {
	for _ in $(seq 100); do
		grep -Eqs -- "$2" "$1" && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# free_port: see port.sh.
. "$top_srcdir/tests/posix/port.sh"
