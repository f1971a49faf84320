#!/usr/bin/env bash
# deploy.sh: the domain configuration that boots a Duet Xen image on a Xen
# host, for xl or for libvirt's Xen (libxl) driver.
#
#   deploy.sh xl|libvirt IMAGE [-o FILE] [KEY=VALUE...]
#
# Keys (each device key may be given more than once):
#   name=NAME          the domain's name (default: the image's, less .xen)
#   type=pv|pvh        the guest mode (default pv); every Duet image boots
#                      both ways, an image without a PVH entry only as pv
#   memory=SIZE        MiB, or with a unit: 8M, 1G (default: the floor, below)
#   vcpus=N            (default 1: a Duet image runs on one vCPU)
#   vif=bridge:BR[,mac=MAC][,script=PATH]
#                      a network interface on bridge BR (default: one on
#                      xenbr0 when the image has a network driver)
#   vif=none           no network interface
#   disk=PATH[,ro]     a raw disk image or block device, xvda, xvdb... in order
#   extra=ARGS         the boot arguments (duet's key=value list)
#   path=PATH          where the image lives on the Xen host (default:
#                      IMAGE's absolute path here)
#   on_poweroff=, on_reboot=, on_crash=   destroy, restart, preserve, ...
#                      (defaults: destroy, restart, destroy)
#
# The file is written whole or not at all: any error leaves nothing behind
# and exits 2. -o - writes to standard output.
set -euo pipefail

die() { echo "duet: deploy: $*" >&2; exit 2; }

# A PV guest's boot mapping is rounded up to 4 MiB, Xen's floor; hello,
# httpd and dns serve in it (tests/xen/cases/*-min-memory.case). A bigger
# image gets its loaded size and 1.5 MiB of room for the heap and the boot
# structures on top.
memory_floor() {
	local sz bytes=0
	for sz in $(readelf -lW "$1" | awk '$1 == "LOAD" { print $6 }'); do
		bytes=$((bytes + sz))
	done
	local mib=$(((bytes + 1536 * 1024 + 1048575) / 1048576))
	((mib > 4)) && echo "$mib" || echo 4
}

size_mib() {
	case $1 in
	[1-9] | [1-9]*[0-9]) echo "$1" ;;
	[1-9]M | [1-9]*[0-9]M | [1-9]MiB | [1-9]*[0-9]MiB) echo "${1%%M*}" ;;
	[1-9]G | [1-9]*[0-9]G | [1-9]GiB | [1-9]*[0-9]GiB) echo $((${1%%G*} * 1024)) ;;
	*) return 1 ;;
	esac
}

mac_ok() {
	[[ $1 =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$ ]] || return 1
	(((16#${1:0:2} & 1) == 0)) # unicast
}

# Characters neither an xl string nor a libvirt attribute can carry as is.
plain() { [[ $1 != *[\"\'\\,\<\>\&]* && $1 != *[[:cntrl:]]* ]]; }

[[ $# -ge 2 ]] || die "usage: deploy xl|libvirt IMAGE [-o FILE] [KEY=VALUE...]"
format=$1 image=$2
shift 2
case $format in
xl | libvirt) ;;
*) die "unknown format '$format' (formats: xl, libvirt)" ;;
esac

[[ -e $image ]] || die "$image: no such file"
[[ -f $image && -r $image ]] || die "$image: not a readable file"
[[ $(head -c 4 "$image" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] ||
	die "$image: not an ELF image"
if ! readelf -n "$image" 2>/dev/null | grep -q '^  Xen '; then
	rec=$(mktemp)
	objcopy -O binary --only-section=.duet.buildinfo "$image" "$rec" 2>/dev/null || :
	platform=$(tr -d '\0' <"$rec" | sed -n 's/^duet\.platform=//p')
	rm -f "$rec"
	[[ $platform == posix ]] &&
		die "$image is a POSIX build; deploy takes a Xen image (./duet build -t xen APP gives APP.xen)"
	die "$image: not a Xen guest image (no Xen ELF notes)"
fi

base=$(basename "$image")
name=${base%.xen} memory='' vcpus=1 extra='' out='' path='' type=pv
on_poweroff=destroy on_reboot=restart on_crash=destroy
vifs=() disks=() novif=0
while [[ $# -gt 0 ]]; do
	case $1 in
	-o)
		[[ $# -ge 2 ]] || die "-o needs a file"
		out=$2
		shift 2
		continue
		;;
	-o*) out=${1#-o} ;;
	name=*) name=${1#*=} ;;
	memory=*)
		memory=$(size_mib "${1#*=}") || die "memory: '${1#*=}' is not a size (like 8, 8M or 1G)"
		;;
	vcpus=*) vcpus=${1#*=} ;;
	type=*) type=${1#*=} ;;
	vif=none) novif=1 ;;
	vif=*) vifs+=("${1#*=}") ;;
	disk=*) disks+=("${1#*=}") ;;
	extra=*) extra=${1#*=} ;;
	path=*) path=${1#*=} ;;
	on_poweroff=* | on_reboot=* | on_crash=*)
		v=${1#*=}
		[[ $v =~ ^(destroy|restart|rename-restart|preserve|coredump-destroy|coredump-restart|soft-reset)$ ]] ||
			die "${1%%=*}: '$v' is not an action (destroy, restart, preserve, ...)"
		printf -v "${1%%=*}" '%s' "$v"
		;;
	*=*) die "unknown key '${1%%=*}' (keys: name, type, memory, vcpus, vif, disk, extra, path, on_poweroff, on_reboot, on_crash)" ;;
	*) die "'$1' is not KEY=VALUE" ;;
	esac
	shift
done

[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ ]] || die "name: '$name' must be letters, digits, _ . - (up to 64)"
[[ $vcpus =~ ^[1-9][0-9]{0,2}$ ]] || die "vcpus: '$vcpus' is not a count"
[[ $type == pv || $type == pvh ]] || die "type: '$type' must be pv or pvh"
# PVH needs the 32-bit physical entry note (XEN_ELFNOTE_PHYS32_ENTRY, 18).
if [[ $type == pvh ]] && ! readelf -nW "$image" | grep -Eq '^  Xen .*(0x00000012|PHYS32)'; then
	die "type: $image has no PVH entry (XEN_ELFNOTE_PHYS32_ENTRY): deploy it with type=pv"
fi
floor=$(memory_floor "$image")
if [[ -z $memory ]]; then
	memory=$floor
elif ((memory < 4)); then
	die "memory: ${memory} MiB is below Xen's floor for a guest (4 MiB)"
fi
plain "$extra" || die "extra: quotes, backslashes, commas, <, >, & and control characters cannot be passed"
[[ -n $path ]] || path=$(realpath "$image")
[[ $path == /* ]] && plain "$path" || die "path: '$path' must be an absolute path without quotes or commas"
if ((novif)); then
	((${#vifs[@]} == 0)) || die "vif=none and vif=... together"
elif ((${#vifs[@]} == 0)) && grep -q 'netfront' "$image"; then
	vifs=(bridge:xenbr0)
fi

# vif=bridge:BR[,mac=MAC][,script=PATH] -> "BR MAC SCRIPT"
vif_bridge=() vif_mac=() vif_script=()
for v in "${vifs[@]+"${vifs[@]}"}"; do
	[[ $v == bridge:* ]] || die "vif: '$v' must be bridge:BRIDGE[,mac=MAC]"
	IFS=, read -r -a parts <<<"${v#bridge:}"
	br=${parts[0]:-} mac='' script=''
	[[ $br =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "vif: '$br' is not a bridge name"
	for p in "${parts[@]:1}"; do
		case $p in
		mac=*) mac=${p#mac=}; mac_ok "$mac" || die "vif: '$mac' is not a unicast MAC (like 00:16:3e:12:34:56)" ;;
		script=*) script=${p#script=}; [[ $script == /* ]] && plain "$script" || die "vif: script '$script' must be an absolute path" ;;
		*) die "vif: unknown option '$p' (mac=, script=)" ;;
		esac
	done
	vif_bridge+=("$br") vif_mac+=("$mac") vif_script+=("$script")
done

# disk=PATH[,ro] -> xvda, xvdb, ...
disk_path=() disk_ro=() disk_vdev=()
letters=abcdefghijklmnopqrstuvwxyz
for d in "${disks[@]+"${disks[@]}"}"; do
	p=${d%,ro} ro=0
	[[ $p != "$d" ]] && ro=1
	[[ $p == /* ]] && plain "$p" || die "disk: '$p' must be an absolute path without quotes or commas (and ,ro for read-only)"
	((${#disk_path[@]} < 26)) || die "disk: at most 26 disks"
	disk_vdev+=("xvd${letters:${#disk_path[@]}:1}") disk_path+=("$p") disk_ro+=("$ro")
done

xl_config() {
	echo "# xl domain configuration for $base (written by duet deploy xl)."
	echo "# Boot it on a Xen host with: xl create $name.cfg"
	echo "name = \"$name\""
	echo "type = \"$type\""
	echo "kernel = \"$path\""
	echo "memory = $memory"
	echo "vcpus = $vcpus"
	[[ -z $extra ]] || echo "extra = \"$extra\""
	local i items=()
	for i in "${!vif_bridge[@]}"; do
		local s="'bridge=${vif_bridge[i]}"
		[[ -z ${vif_mac[i]} ]] || s+=",mac=${vif_mac[i]}"
		[[ -z ${vif_script[i]} ]] || s+=",script=${vif_script[i]}"
		items+=("$s'")
	done
	((${#items[@]} == 0)) || echo "vif = [ $(IFS=,; echo "${items[*]}" | sed "s/','/', '/g") ]"
	items=()
	for i in "${!disk_path[@]}"; do
		local acc=rw
		((disk_ro[i])) && acc=ro
		items+=("'format=raw,vdev=${disk_vdev[i]},access=$acc,target=${disk_path[i]}'")
	done
	((${#items[@]} == 0)) || echo "disk = [ $(IFS=,; echo "${items[*]}" | sed "s/','/', '/g") ]"
	echo "on_poweroff = \"$on_poweroff\""
	echo "on_reboot = \"$on_reboot\""
	echo "on_crash = \"$on_crash\""
}

libvirt_xml() {
	local i
	echo "<!-- libvirt domain for $base (written by duet deploy libvirt)."
	echo "     Boot it with: virsh -c xen:/// create $name.xml -->"
	echo "<domain type='xen'>"
	echo "  <name>$name</name>"
	echo "  <memory unit='MiB'>$memory</memory>"
	echo "  <currentMemory unit='MiB'>$memory</currentMemory>"
	echo "  <vcpu>$vcpus</vcpu>"
	echo "  <os>"
	# libvirt's libxl driver names PVH "xenpvh", PV "linux" on "xenpv".
	if [[ $type == pvh ]]; then
		echo "    <type arch='x86_64' machine='xenpvh'>xenpvh</type>"
	else
		echo "    <type arch='x86_64' machine='xenpv'>linux</type>"
	fi
	echo "    <kernel>$path</kernel>"
	[[ -z $extra ]] || echo "    <cmdline>$extra</cmdline>"
	echo "  </os>"
	echo "  <on_poweroff>$on_poweroff</on_poweroff>"
	echo "  <on_reboot>$on_reboot</on_reboot>"
	echo "  <on_crash>$on_crash</on_crash>"
	echo "  <devices>"
	for i in "${!disk_path[@]}"; do
		local kind=file src=file
		[[ -b ${disk_path[i]} ]] && kind=block src=dev
		echo "    <disk type='$kind' device='disk'>"
		echo "      <driver name='phy' type='raw'/>"
		echo "      <source $src='${disk_path[i]}'/>"
		echo "      <target dev='${disk_vdev[i]}' bus='xen'/>"
		((disk_ro[i] == 0)) || echo "      <readonly/>"
		echo "    </disk>"
	done
	for i in "${!vif_bridge[@]}"; do
		echo "    <interface type='bridge'>"
		echo "      <source bridge='${vif_bridge[i]}'/>"
		[[ -z ${vif_mac[i]} ]] || echo "      <mac address='${vif_mac[i]}'/>"
		[[ -z ${vif_script[i]} ]] || echo "      <script path='${vif_script[i]}'/>"
		echo "    </interface>"
	done
	echo "    <console type='pty'>"
	echo "      <target type='xen' port='0'/>"
	echo "    </console>"
	echo "  </devices>"
	echo "</domain>"
}

case $format in
xl) gen=xl_config ext=cfg ;;
libvirt) gen=libvirt_xml ext=xml ;;
esac
[[ -n $out ]] || out=$name.$ext
if [[ $out == - ]]; then
	$gen
	exit 0
fi
[[ -d $(dirname "$out") ]] || die "$out: no such folder"
tmp=$(mktemp "$(dirname "$out")/.deploy.XXXXXX")
trap 'rm -f "$tmp"' EXIT
$gen >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "duet: deploy: wrote $out ($format: $name, $type, ${memory} MiB${extra:+, extra \"$extra\"})" >&2
