# ./duet test (the suites) and ./duet fuzz.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

passed=0
failed=0

# tally NAME DIR: adds one suite's results to the totals, from the .trs
# files Automake's test driver wrote under DIR: one ":test-result:" line per
# test case (a TAP test's every check).
tally() {
	local name=$1 dir=$2 p f
	p=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | grep -c '^:test-result: PASS' || :)
	f=$(find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | grep -cE '^:test-result: (FAIL|ERROR|XPASS)' || :)
	if [[ ${p:-0} -eq 0 && ${f:-0} -eq 0 ]]; then
		say "$name: no test results (build failed?); see $build_root/$name-check.log"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	say "$name: $p passed, $f failed"
}

# check_suite NAME TARGET: make check in one build, counted per test case.
check_suite() {
	local name=$1 t=$2 log
	log=$build_root/$name-check.log
	mkdir -p "$build_root"
	say "suite $name: make check in $(build_dir "$t")"
	# Only this run's results count: a test dropped since leaves none.
	find "$(build_dir "$t")" -name '*.trs' -delete 2>/dev/null || :
	if ! (make_target "$t" && make_target "$t" check AM_COLOR_TESTS=no) >"$log" 2>&1; then
		grep -E '^(FAIL|ERROR)|error:' "$log" | head -40 >&2 || true
		for f in $(grep -lE '^not ok|^# (FAIL|ERROR):  *[1-9]' -r "$(build_dir "$t")/tests" --include='*.log' 2>/dev/null); do
			say "--- $f"
			grep -A8 '^not ok' "$f" | head -60 >&2 || true
		done
	fi
	tally "$name" "$(build_dir "$t")"
	# The storage crash test says how many power cuts it checked.
	sed -n 's/^# \(crash states checked: [0-9]*\)/\1/p' \
		"$(build_dir "$t")/tests/unit/storage_crash_test.log" 2>/dev/null |
		while read -r line; do say "$name: storage $line"; done
}

dist_suite() {
	local log=$build_root/distcheck.log
	say "suite dist: make distcheck"
	if make_target posix distcheck >"$log" 2>&1; then
		passed=$((passed + 1))
		say "dist: distcheck passed"
	else
		failed=$((failed + 1))
		tail -30 "$log" >&2
		say "dist: distcheck FAILED; see $log"
	fi
}

xen_suite() {
	if [[ ! -x $top/tests/xen/run.sh ]]; then
		say "suite xen: skipped (no harness yet)"
		return
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		say "suite xen: skipped (qemu-system-x86_64 not installed)"
		return
	fi
	local log=$build_root/xen-suite.log p f
	# The cases boot the Xen images of the apps (and of an app built
	# outside the tree against this build installed).
	if ! make_target xen xen-images >"$build_root/xen-build.log" 2>&1; then
		tail -20 "$build_root/xen-build.log" >&2
		say "xen: building the Xen images FAILED; see $build_root/xen-build.log"
		failed=$((failed + 1))
		return
	fi
	say "suite xen: real Xen in QEMU"
	DUET_XEN_BUILD=$(build_dir xen) "$top/tests/xen/run.sh" 2>&1 | tee "$log" >&2 || true
	p=$(sed -n 's/^xen: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^xen: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
	if [[ -z $p ]]; then
		failed=$((failed + 1))
		say "xen: the harness ended without a summary"
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

# The fuzz targets (tests/fuzz/), built with clang's libFuzzer in
# build/fuzz; tests/fuzz/run.sh runs them. The suite replays every corpus
# and fuzzes each target briefly; it counts one test per target.
have_libfuzzer() {
	command -v clang >/dev/null &&
		[[ -f $(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a ]]
}

fuzz_suite() {
	local log=$build_root/fuzz-suite.log p f
	if ! have_libfuzzer; then
		say "suite fuzz: skipped (clang or libFuzzer not installed)"
		return
	fi
	mkdir -p "$build_root"
	say "suite fuzz: every corpus, then each target briefly"
	if ! make_target fuzz fuzz >"$build_root/fuzz-build.log" 2>&1; then
		tail -20 "$build_root/fuzz-build.log" >&2
		say "fuzz: building the targets FAILED; see $build_root/fuzz-build.log"
		failed=$((failed + 1))
		return
	fi
	"$top/tests/fuzz/run.sh" --suite "$(build_dir fuzz)" ${DUET_FUZZ_SECONDS:-} >"$log" || :
	p=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log")
	f=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
}

cmd_fuzz() {
	have_libfuzzer || die "fuzz needs clang and libFuzzer (./duet deps)"
	need_deps
	make_target fuzz fuzz
	exec "$top/tests/fuzz/run.sh" "$(build_dir fuzz)" "$@"
}

cmd_test() {
	local suites=("$@") s
	[[ ${#suites[@]} -gt 0 ]] || suites=(unit asan dist xen fuzz)
	for s in "${suites[@]}"; do
		case $s in
		unit | posix | asan | dist | xen | fuzz) ;;
		*) die "unknown suite '$s' (suites: unit, asan, dist, xen, fuzz)" ;;
		esac
	done
	need_deps
	for s in "${suites[@]}"; do
		case $s in
		unit | posix) check_suite posix posix ;;
		asan) check_suite posix-asan posix-asan ;;
		dist) dist_suite ;;
		xen) xen_suite ;;
		fuzz) fuzz_suite ;;
		esac
	done
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}

