# Helpers for a case's action.sh and post.sh, sourced by dom0's ash before
# the case's own script (which runs under `set -e`).
#
# Environment: CASE (the case and domain name), CONSOLE (the guest's console
# log, still growing while the guest runs), WORK (a scratch folder), PLAN (the
# case's plan folder), DOM0_IP (10.99.0.1 on xenbr0), DISK_<vdev> (the file
# behind each disk, e.g. DISK_xvda).

# This runs under busybox ash, which has read -t and test -nt.
# shellcheck disable=SC3045,SC3013

# A builtin sleep (read -t on a FIFO nobody writes): starting processes is
# slow in this dom0 and takes CPU from the toolstack.
_tick=$(mktemp -u "$WORK/.tick.XXXXXX")
mkfifo "$_tick"
exec 4<>"$_tick"
tick() { read -r -t "$1" _ <&4 || :; }

# wait_console REGEX [SECONDS]: wait until the guest's console shows REGEX
# (extended regex); fail after SECONDS (default 30).
wait_console() {
	_n=$((${2:-30} * 10))
	while [ "$_n" -gt 0 ]; do
		# Look again only when the console may have grown (the redirection
		# stamps .seen; test compares whole seconds).
		if [ -f "$CONSOLE" ] && [ ! "$_tick.seen" -nt "$CONSOLE" ]; then
			: >"$_tick.seen"
			if tr -d '\r\000' <"$CONSOLE" | grep -Eq -- "$1"; then
				return 0
			fi
		fi
		tick 0.1
		_n=$((_n - 1))
	done
	echo "wait_console: /$1/ not seen within ${2:-30}s" >&2
	return 1
}

# guest_domid: the running guest's domain id.
guest_domid() {
	xl domid "$CASE"
}

# http_get HOST PATH OUT: one GET (Connection: close) with busybox nc (the
# harness's static busybox wget segfaults in dom0); the response, headers
# and body, in OUT. Fails if nothing came back.
http_get() {
	printf "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$2" "$1" |
		nc -w 5 "$1" 80 >"$3" 2>/dev/null
	[ -s "$3" ]
}

# http_wait HOST PATH OUT [TRIES]: http_get until the server answers (every
# 0.2 s, TRIES times, default 150), then check that it answered 200.
http_wait() {
	_n=0
	until http_get "$1" "$2" "$3"; do
		_n=$((_n + 1))
		[ "$_n" -lt "${4:-150}" ] || { echo "no HTTP response from $1"; return 1; }
		tick 0.2
	done
	http_status "$3" 200
}

# http_status RESPONSE CODE: the response's status line says CODE.
http_status() {
	head -n 1 "$1" | grep -q "^HTTP/1.1 $2 " && return 0
	echo "expected $2, got: $(head -n 1 "$1")"
	return 1
}

# http_body RESPONSE OUT: the body, by its Content-Length.
http_body() {
	_len=$(tr -d "\r" <"$1" | sed -n "s/^[Cc]ontent-[Ll]ength: *//p" | head -n 1)
	[ -n "$_len" ] || { echo "no Content-Length"; return 1; }
	tail -c "$_len" "$1" >"$2"
}
