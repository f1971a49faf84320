#!/usr/bin/env bash
# Boot one Xen image (PV, or PVH with -p) under the harness's Xen-in-QEMU, with the guest's
# console on this terminal: for trying Duet images without a Xen host.
#
#   platform-xen/qemu/boot.sh [-p] [-m MIB] [-r RAMDISK] [-n] [-d SIZE] [-t SECS] [-v] IMAGE [EXTRA...]
#
#   IMAGE    the guest kernel (a path, or relative to $DUET_XEN_BUILD)
#   EXTRA    the guest's boot arguments (xl's extra=)
#   -p       boot it as a PVH guest (default: PV)
#   -m MIB   guest memory (default 32)
#   -r FILE  a ramdisk for the guest
#   -n       a vif on xenbr0 (dom0 is 10.99.0.1/24)
#   -d SIZE  a blank disk xvda of SIZE (e.g. 8M)
#   -t SECS  stop QEMU after SECS, boot included (default: no limit)
#   -v       show Xen's and dom0's boot messages too
#
# dom0 runs `xl create -c` and powers the emulated machine off when the
# guest ends. Exit status: 0 if the guest powered off, 1 otherwise. In QEMU,
# Ctrl-A x quits.
set -euo pipefail

# shellcheck source=platform-xen/qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
	sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
memory=32 ramdisk='' vif=no disk='' limit=0 verbose=0 type=pv
while getopts pm:r:nd:t:vh opt; do
	case $opt in
	p) type=pvh ;;
	m) memory=$OPTARG ;;
	r) ramdisk=$OPTARG ;;
	n) vif=yes ;;
	d) disk=$OPTARG ;;
	t) limit=$OPTARG ;;
	v) verbose=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
(($# >= 1)) || usage
image=$1
shift
extra="$*"

[[ $memory =~ ^[1-9][0-9]*$ ]] || die "-m wants MiB"
[[ $limit =~ ^[0-9]+$ ]] || die "-t wants seconds"
[[ $extra != *[\"\\]* ]] || die "boot arguments must not hold \" or \\"
find_file() {
	local p
	for p in "$1" "$build/$1" "$top/$1"; do
		[[ -f $p ]] && { printf '%s\n' "$p"; return 0; }
	done
	die "not found: $1"
}
image=$(find_file "$image")
[[ -z $ramdisk ]] || ramdisk=$(find_file "$ramdisk")

xen_fetch
bdir=$out/boot
stage=$bdir/dom0
lock_dir "$bdir"
build_dom0_tree "$stage"
mkdir -p "$stage/duet/images"
stage_kernel "$image" "$stage/duet/images/kernel"
cfg=$stage/duet/boot.cfg
{
	echo 'name = "boot"'
	echo "type = \"$type\""
	echo 'kernel = "/duet/images/kernel"'
	echo "memory = $memory"
	echo "extra = \"$extra\""
	echo 'on_poweroff = "destroy"'
	echo 'on_reboot = "destroy"'
	echo 'on_crash = "destroy"'
} >"$cfg"
if [[ -n $ramdisk ]]; then
	cp "$ramdisk" "$stage/duet/images/ramdisk"
	echo 'ramdisk = "/duet/images/ramdisk"' >>"$cfg"
fi
[[ $vif == no ]] ||
	echo "vif = [ 'bridge=xenbr0,mac=00:16:3e:99:01:01,script=/duet/hotplug-vif' ]" >>"$cfg"
if [[ -n $disk ]]; then
	case $disk in
	[1-9]*K) kib=${disk%K} ;;
	[1-9]*M) kib=$((${disk%M} * 1024)) ;;
	[1-9]*G) kib=$((${disk%G} * 1024 * 1024)) ;;
	*) die "-d wants a size like 512K, 8M or 1G" ;;
	esac
	[[ $kib =~ ^[0-9]+$ ]] || die "-d wants a size like 512K, 8M or 1G"
	echo "xvda:$kib" >"$stage/duet/boot.disks"
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,script=/duet/hotplug-block,target=/run/duet/boot/xvda.img' ]" >>"$cfg"
fi
initrd=$bdir/dom0.cpio
cpio_pack "$stage" "$initrd"

serial=$bdir/serial.log
bound=$limit # 0: no limit
qemu_args=(-serial stdio -monitor none)
stdin=/dev/null
if [[ -t 0 ]]; then
	# The terminal drives the guest's console; Ctrl-A x quits QEMU.
	qemu_args=(-serial mon:stdio)
	stdin=/dev/stdin
fi
echo "xen: booting $(basename "$image") (Xen and dom0 take ~10 s; serial log: $serial)" >&2

# Until dom0 attaches the console only the log gets the serial output (all
# of it goes to the terminal with -v). Then bytes pass through as they come,
# as a prompt has no newline, except lines starting with the harness's
# marker, which are held back to be read here.
passthrough() {
	local c line='' held='' attached=0 mark='@@DUET-XEN '
	exec {log}>"$serial"
	while IFS= read -r -d '' -N 1 c; do
		printf '%s' "$c" >&"$log"
		if ((verbose)); then
			printf '%s' "$c"
		elif ((attached == 1)) && [[ $mark != "$line$c"* && $line$c != "$mark"* ]]; then
			printf '%s%s' "$held" "$c"
			held=''
		else
			held+=$c
		fi
		if [[ $c == $'\n' ]]; then
			case $line in
			*"${mark}attach"*) attached=1 ;;
			*"${mark}boot-end "*) attached=2 end=${line#*"${mark}boot-end "} ;;
			*"${mark}fatal "*) echo "xen: dom0 failed: ${line#*"${mark}fatal "}" >&2 ;;
			esac
			line='' held=''
		else
			line+=$c
		fi
	done
	exec {log}>&-
	[[ -n ${end:-} ]] || { echo "xen: the guest did not end normally (see $serial)" >&2; return 1; }
	echo "xen: guest ended: $end" >&2
	[[ $end == "code=0 "* ]]
}

set +e
run_qemu "$bound" "$initrd" "${qemu_args[@]}" <"$stdin" 2>&1 | passthrough
rc=("${PIPESTATUS[@]}")
set -e
if ((rc[0] == 124 || rc[0] == 137)); then
	echo "xen: gave up after ${limit}s" >&2
fi
((rc[1] == 0))
