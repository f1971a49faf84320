# ./duet replay: run a recorded log (record=FILE, core/REPLAY.md) again in
# the POSIX build of its app, optionally under gdb.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

# shellcheck source=build-aux/duet/build.sh
. "$cmd_dir/build.sh"

cmd_replay() {
	local gdb= dump= gdb_args=()
	while [[ $# -gt 0 && $1 == --* ]]; do
		case $1 in
		--gdb) gdb=1 ;;
		--gdb-batch) gdb=1 gdb_args=(-batch -ex run -ex bt) ;;
		--dump) dump=1 ;;
		*) die "replay: unknown option '$1' (--gdb, --gdb-batch, --dump)" ;;
		esac
		shift
	done
	[[ $# -eq 2 ]] || die "replay needs an app and a log: replay [--gdb|--dump] APP LOG"
	local app=$1 log=$2
	check_app "$app"
	[[ -f $log ]] || die "replay: no such log: $log"
	quiet=1 cmd_build -t posix "$app"
	local image
	image=$(app_image posix "$app")
	# A Xen recording replays in a POSIX build with Xen's lwIP sizes: its
	# TCP windows are on the wire (core/REPLAY.md).
	local platform
	platform=$("$image" --replay-dump "$log" 2>/dev/null | sed -n '1s/.*, platform //p') || :
	if [[ $platform == xen ]]; then
		make_target posix-small "apps/$app/$app"
		image=$(app_image posix-small "$app")
	fi
	if [[ -n $dump ]]; then
		exec "$image" --replay-dump "$log"
	elif [[ -n $gdb ]]; then
		command -v gdb >/dev/null || die "replay --gdb: gdb is not installed"
		exec gdb -nx -q -ex 'set debuginfod enabled off' \
			-ex 'break duet__posix_replay_stop' "${gdb_args[@]}" \
			--args "$image" --replay "$log"
	fi
	exec "$image" --replay "$log"
}
