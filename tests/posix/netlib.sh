# Helpers for the network process tests, on top of lib.sh.
. "$top_srcdir/tests/posix/lib.sh"
net_echo=$top_builddir/tests/posix/net_echo
net_raw=$top_builddir/tests/posix/net_raw
net_client=$top_builddir/tests/posix/net_client
vwire_hub=$top_builddir/platform-posix/vwire-hub
httpd=$top_builddir/apps/httpd/httpd
tmp=$(mktemp -d)
bg_pids=
cleanup_extra=:
trap 'for p in $bg_pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null
	$cleanup_extra; rm -rf "$tmp"' EXIT
# A test killed from outside (make's timeout, ^C) still cleans up.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# bg LOG COMMAND...: starts COMMAND in the background, output to LOG; its
# pid is in $! and is killed at exit.
bg() {
	log=$1
	shift
	"$@" >"$log" 2>&1 &
	bg_pids="$bg_pids $!"
}

# stop PID: SIGTERM, then wait for it; returns its exit status.
stop() {
	kill "$1" 2>/dev/null
	wait "$1"
}

