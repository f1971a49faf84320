# ./duet symbolize.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.


# The console of a crashed Xen guest (platform-xen/qemu/boot.sh, xl console, the
# harness's logs) has "duet: backtrace: [at RIP] from RET RET ...": each
# address becomes "#N ADDR in FUNCTION at FILE:LINE" from the unstripped
# image the .xen file was made from (build/xen/apps/APP/APP). A return
# address is looked up one byte back, inside the call. Other lines pass.
cmd_symbolize() {
	[[ $# -ge 1 && $# -le 2 ]] || die "usage: ./duet symbolize APP|ELF [LOG]"
	local elf
	if [[ $1 == */* || -f $1 ]]; then
		elf=$1 # the unstripped image of an app (outside the tree: build/xen/APP)
		[[ -f $elf ]] || die "no such file: $elf"
	else
		check_app "$1"
		elf=${DUET_XEN_BUILD:-$(build_dir xen)}/apps/$1/$1
		[[ -f $elf ]] || die "no $elf: build it with ./duet build -t xen $1"
	fi
	command -v addr2line >/dev/null || die "addr2line not found (apt-get install binutils)"
	local line word n where
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		printf '%s\n' "$line"
		[[ $line == *"duet: backtrace:"* ]] || continue
		n=0 where=at
		for word in ${line#*duet: backtrace:}; do
			case $word in
			at | from) where=$word ;;
			0x[0-9a-f]*)
				# Console bytes after the number (a stray \r) are dropped.
				[[ $word =~ ^0x[0-9a-f]+ ]] && word=${BASH_REMATCH[0]}
				local look=$word
				[[ $where == from ]] && look=$(printf '%#x' $((word - 1)))
				printf '  #%d %s in %s\n' "$n" "$word" \
					"$(addr2line -f -i -p -C -e "$elf" "$look" | sed 's/^ (inlined by) /      inlined by /')"
				n=$((n + 1))
				;;
			esac
		done
	done < "${2:-/dev/stdin}"
}

