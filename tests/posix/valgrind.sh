# hello under valgrind: no invalid access, no leak, through boot, timers,
# orderly shutdown and the error paths.
. "$top_srcdir/tests/posix/lib.sh"
command -v valgrind >/dev/null 2>&1 || skip_all "valgrind is not installed"
[ -z "${DUET_SANITIZERS:-}" ] || skip_all "sanitizer build (valgrind and ASan do not mix)"

vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect"
check "clean run is valgrind-clean" 0 'stopping after 2 ticks' -- $vg "$hello" ticks=2 interval=10ms
check "non-zero exit is valgrind-clean" 5 '' -- $vg "$hello" ticks=1 interval=10ms exit=5
check "bad arguments are valgrind-clean" 2 'unknown boot argument' -- $vg "$hello" nope=1
check "file block device is valgrind-clean" 0 '' -- $vg "$hello" ticks=1 interval=10ms --block "disk0=$0,ro"
finish
