# ./duet mkimage.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

# A disk image for the tar store: a POSIX (pax) tar of DIR's contents, names
# relative to DIR, sorted, owners zeroed, padded to whole 512-byte sectors.
# Any ordinary tar file works as an image too.
cmd_mkimage() {
	local dir= out=
	while [[ $# -gt 0 ]]; do
		case $1 in
		-o)
			[[ $# -ge 2 ]] || die "-o needs a file name"
			out=$2
			shift 2
			;;
		-*) die "unknown flag '$1' (mkimage DIR -o IMG)" ;;
		*)
			[[ -z $dir ]] || die "mkimage takes one folder"
			dir=$1
			shift
			;;
		esac
	done
	[[ -n $dir && -n $out ]] || die "usage: ./duet mkimage DIR -o IMG"
	[[ -d $dir ]] || die "mkimage: '$dir' is not a folder"
	local list
	list=$(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
	[[ -n $list ]] || die "mkimage: '$dir' is empty"
	printf '%s\n' "$list" | tar -C "$dir" --format=pax --sort=name --owner=0 \
		--group=0 --numeric-owner --pax-option=delete=atime,delete=ctime \
		-cf "$out" -T - || die "mkimage: tar failed"
	local size
	size=$(stat -c %s "$out")
	if ((size % 512 != 0)); then
		truncate -s $(((size + 511) / 512 * 512)) "$out"
	fi
	say "wrote $out ($(stat -c %s "$out") bytes, $(tar -tf "$out" | grep -vc '/$') files)"
}
