# Debugging as a normal process: gdb stops hello in a core function and the
# backtrace shows the app's own function above it.
. "$top_srcdir/tests/posix/lib.sh"
command -v gdb >/dev/null 2>&1 || skip_all "gdb is not installed"

out=$(timeout 60 gdb -batch -nx \
	-ex 'set debuginfod enabled off' \
	-ex 'break duet_timer_start' \
	-ex 'run' \
	-ex 'bt' \
	-ex 'continue' \
	-ex 'bt' \
	-ex 'kill' \
	--args "$hello" ticks=1 2>&1)
if printf '%s\n' "$out" | grep -Eq 'Breakpoint 1, duet_timer_start'; then
	ok "breakpoint in the core's duet_timer_start is hit"
else
	not_ok "breakpoint in the core's duet_timer_start is hit" "$out"
fi
if printf '%s\n' "$out" | grep -Eq '^#1 .* hello_start \(.*\) at .*apps/hello/main\.c:[0-9]+'; then
	ok "backtrace shows the app's hello_start with its source line"
else
	not_ok "backtrace shows the app's hello_start with its source line" "$out"
fi
if printf '%s\n' "$out" | grep -Eq ' main \(.*\) at .*platform-posix/main\.c'; then
	ok "backtrace reaches the platform's main"
else
	not_ok "backtrace reaches the platform's main" "$out"
fi
finish
