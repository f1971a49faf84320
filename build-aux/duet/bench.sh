# ./duet bench.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

# Benchmarks are not tests: they install their peers (bench/*.sh) and
# compare against them in the same run (make bench in the POSIX build).
cmd_bench() {
	local target
	[[ $# -le 1 ]] || die "bench takes at most one benchmark"
	case ${1:-all} in
	all) target=bench ;;
	httpd | record | storage | dns | kv | hostile-dns) target=bench-$1 ;;
	*) die "unknown benchmark '$1' (benchmarks: httpd, record, storage, dns, kv, hostile-dns; none: all)" ;;
	esac
	need_deps
	make_target posix "$target"
}

