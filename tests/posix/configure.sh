# configure in a build folder that already has the core's object folder
# (core/, as every configured build does): its own errors reach the
# terminal, nothing complains about that folder, and no conftest files are
# left behind.
. "$top_srcdir/tests/posix/lib.sh"
[ -x "$top_srcdir/configure" ] || skip_all "no generated configure (autoreconf -fi)"
mkdir -p "$tmp/core"
cd "$tmp" || exit 1

"$top_srcdir/configure" --with-platform=bogus >out.log 2>err.log
status=$?
if [ "$status" -ne 0 ] && grep -q 'error: --with-platform=bogus: expected posix or xen' err.log; then
	ok "a configure error is shown"
else
	not_ok "a configure error is shown" "exit $status" "$(cat err.log)"
fi
if grep -q "core" err.log; then
	not_ok "no complaint about the core/ folder" "$(cat err.log)"
else
	ok "no complaint about the core/ folder"
fi
if ls conftest* confdefs.h >/dev/null 2>&1; then
	not_ok "configure cleaned up after itself" "$(ls)"
else
	ok "configure cleaned up after itself"
fi
finish
