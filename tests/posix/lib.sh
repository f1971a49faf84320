# The process tests' one helper library: TAP output, needed tools, the
# built programs, a scratch folder, ports, servers started and waited for,
# and cleanup at exit. Every tests/posix/*.sh sources it first. Expects
# top_srcdir and top_builddir in the environment (make check sets them).
: "${top_builddir:?run through make check}"

# ------------------------------------------------------------------ TAP
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
# bail MESSAGE [LOG]: the test cannot go on (LOG shown as comments).
bail() {
	[ -z "${2:-}" ] || sed 's/^/# /' "$2"
	echo "Bail out! $1"
	exit 1
}

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

# ------------------------------------------------------ built programs
duet=$top_srcdir/duet
hello=$top_builddir/apps/hello/hello
httpd=$top_builddir/apps/httpd/httpd
dns=$top_builddir/apps/dns/dns
kv=$top_builddir/apps/kv/kv
net_echo=$top_builddir/tests/posix/net_echo
net_raw=$top_builddir/tests/posix/net_raw
net_client=$top_builddir/tests/posix/net_client
vwire_hub=$top_builddir/platform-posix/vwire-hub
flood="python3 $top_srcdir/tests/posix/flood.py"

# ------------------------------------------------- scratch and cleanup
# tmp: the test's own folder. At exit, however the test ends (make's
# timeout and ^C included), every process the test started in the
# background (spawn, serve or a plain &) that it has not waited for is
# killed, the commands given to on_exit run, and tmp goes.
tmp=$(mktemp -d)
at_exit=()
on_exit() { at_exit+=("$1"); } # a shell command line, run by sh -c
lib_cleanup() {
	for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for c in "${at_exit[@]+"${at_exit[@]}"}"; do sh -c "$c"; done
	rm -rf "$tmp"
}
trap lib_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn LOG COMMAND...: starts COMMAND in the background, its output to
# LOG (/dev/null: none); its pid is in $!.
spawn() {
	spawn_log=$1
	shift
	"$@" >"$spawn_log" 2>&1 &
}

# serve PATTERN LOG COMMAND...: spawns a server and waits (10 s at most)
# for a line of LOG matching PATTERN; sets pid and log. A server that
# ends or never says PATTERN bails the test out, LOG shown.
serve() {
	serve_pattern=$1 log=$2
	shift 2
	spawn "$log" "$@"
	pid=$!
	wait_for "$log" "$serve_pattern" "$pid" || bail "did not start: $*" "$log"
}

# stop PID [SIGNAL]: sends SIGNAL (TERM) and waits; returns the exit
# status.
stop() {
	kill -s "${2:-TERM}" "$1" 2>/dev/null
	wait "$1"
}

# with_nofile N COMMAND...: COMMAND with a soft fd limit of N (for spawn).
with_nofile() {
	ulimit -S -n "$1" || exit 1
	shift
	exec "$@"
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

# free_port: see port.sh (shared with the benchmarks).
. "$top_srcdir/tests/posix/port.sh"
