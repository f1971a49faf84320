# hello as a process: banner, timers, exit codes, bad arguments, signals.
. "$top_srcdir/tests/posix/lib.sh"

check "banner names version, platform and commit" 0 \
	'Hello from Duet [0-9]+\.[0-9]+\.[0-9]+ on posix \(commit ([0-9a-f]{12}|unborn)(-dirty)?\)' \
	-- "$hello"
check "three ticks then an orderly stop" 0 'stopping after 3 ticks, exit code 0' -- "$hello"
# The one-shot (due at 1.5 intervals) fires between ticks 1 and 2 however
# loaded the machine is: due timers run in deadline order.
order=$(timeout 30 "$hello" interval=100ms 2>&1 | sed -n 's/.*hello: \(tick [0-9]*\|one-shot\).*/\1/p' | tr '\n' ,)
if [ "$order" = "tick 1,one-shot,tick 2,tick 3," ]; then
	ok "one-shot timer fires between ticks 1 and 2"
else
	not_ok "one-shot timer fires between ticks 1 and 2" "order: $order"
fi
check "ticks are in order" 0 'tick 5 at' -- "$hello" ticks=5 interval=10ms
check "non-zero exit path" 7 'exit code 7' -- "$hello" ticks=1 exit=7
check "unknown boot argument" 2 "unknown boot argument 'tciks'" -- "$hello" tciks=3
check "malformed boot argument" 2 "expected key=value" -- "$hello" ticks
check "bad value" 2 'ticks=three: not an integer' -- "$hello" ticks=three
check "out of range value" 2 'exit=300: out of range' -- "$hello" exit=300
check "bad duration" 2 'interval=5: expected a duration' -- "$hello" interval=5
check "key given twice" 2 "'ticks' given twice" -- "$hello" ticks=1 ticks=2
check "unknown flag" 2 "unknown option '--frobnicate'" -- "$hello" --frobnicate
check "bad log level" 2 'log=loud: expected error' -- "$hello" log=loud
check "--help lists the app's arguments" 0 'ticks=N' -- "$hello" --help
check "--version prints the build record" 0 '^commit: ' -- "$hello" --version
check "--block with a missing file" 2 'cannot open /nonexistent/disk.img' -- \
	"$hello" --block disk0=/nonexistent/disk.img
check "--block with a bad option" 2 "unknown option 'rw'" -- "$hello" --block "disk0=$0,rw"
check "--block without NAME=" 2 'expected NAME=SPEC' -- "$hello" --block disk.img
check "a declared disk hello never opens is reported" 0 \
	'disk0 \(a block device\) is not used by hello' -- "$hello" --block "disk0=$0,ro" ticks=1 interval=1ms
check "--net socket for an app without networking is reported" 0 \
	'a network was asked for \(net=socket\), but hello does not use one' -- "$hello" --net socket ticks=1 interval=1ms

# SIGTERM and SIGINT take the orderly path: stop hooks run, exit code 0.
for sig in TERM INT; do
	serve 'tick 2' "$tmp/$sig.log" "$hello" ticks=0 interval=10ms
	stop "$pid" "$sig"
	status=$?
	if [ "$status" -eq 0 ] && grep -q "SIG$sig: shutting down" "$log" &&
		grep -q 'stopping after' "$log"; then
		ok "SIG$sig shuts down in order"
	else
		not_ok "SIG$sig shuts down in order" "exit status $status" "$(cat "$log")"
	fi
done
finish
