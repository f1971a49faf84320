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
