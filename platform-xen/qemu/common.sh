# Shared by tests/xen/run.sh and platform-xen/qemu/boot.sh (sourced, bash): paths,
# the dom0 initramfs, guest initramfs builder and the QEMU command line.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the sourcing scripts

qemu_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$qemu_dir/../.." && pwd)
xen_dir=$top/tests/xen # the suite's cases and guests
cache=$(realpath -m "${DUET_CACHE:-$top/.cache}/xen")
root=$cache/root # the unpacked Debian packages (platform-xen/qemu/fetch.sh)
out=$cache/out   # per-run artefacts: serial log, staged initramfs
build=${DUET_XEN_BUILD:-$top/build/xen}
bb=$root/bin/busybox

# Under TCG a PV Linux guest needs seconds just to be unpacked by xl. dom0
# holds its initramfs (every case's images, ~135 MiB) twice while it
# unpacks: 768 MiB, which leaves ~1.2 GiB for guests.
qemu_mem=2048
dom0_mem=768M
xen_cmdline="console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem dom0_max_vcpus=1 loglvl=all guest_loglvl=all smap=0 smep=0 noreboot=false"
# smap=0 smep=0: under TCG, dom0 dies at once with an unhandled #PF
# (create_bounce_frame) without them. One dom0 vCPU: two made runs slower
# under TCG and once crashed a dom0 process.
dom0_cmdline="console=hvc0 earlyprintk=xen rdinit=/init panic=-1 quiet loglevel=1"

# Modules dom0 loads, in this order (dependencies first: llc and stp
# before bridge). dom0/init reads the list from /duet/modules.
dom0_modules=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs llc stp
	bridge xen-netback xen-blkback loop tun)

die() {
	printf 'xen: error: %s\n' "$*" >&2
	exit 2
}

# lock_dir DIR: make DIR this process's own until it exits.
lock_dir() {
	mkdir -p "$1"
	exec {dir_lock}>"$1.lock"
	flock -n "$dir_lock" || die "$1 is in use by another run"
}

xen_fetch() {
	"$qemu_dir/fetch.sh" || die "fetching Xen packages failed"
	kver=$(sed -n 's/^kernel=//p' "$cache/fetched.stamp")
	[[ -n $kver ]] || die "no kernel version in $cache/fetched.stamp"
	vmlinuz=$root/boot/vmlinuz-$kver
	export DUET_XEN_ROOT=$root DUET_XEN_KVER=$kver DUET_TOP=$top DUET_XEN_BUILD=$build
}

# The path of a kernel module of the fetched kernel, by name.
module_path() {
	local f
	f=$(find "$root/lib/modules/$kver/kernel" -name "$1.ko" -print -quit)
	[[ -n $f ]] || die "kernel module $1 not found in $kver"
	printf '%s\n' "$f"
}

# cpio_pack DIR OUT: a newc archive of DIR, owned by root. busybox's cpio
# spares the host a cpio package.
cpio_pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) >"$2"
}

# copy_with_libs DEST FILE...: copy ELF executables to the same paths under
# DEST, plus every shared library they load. Libraries are resolved against
# the unpacked packages first, then the host (bash, coreutils, util-linux
# and glibc come from the host, which is Debian 12 like the packages).
copy_with_libs() {
	local dest=$1 f lib
	shift
	local libpath=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu
	for f in "$@"; do
		while read -r lib; do
			[[ -n $lib ]] || continue
			if [[ $lib == "not found:"* ]]; then
				die "${lib#not found: } (needed by $f) is missing"
			fi
			# All libraries land in /lib/x86_64-linux-gnu of dom0
			# (/usr/lib/x86_64-linux-gnu links there); the loader keeps
			# its ABI path.
			if [[ $lib == */ld-linux-x86-64.so.2 ]]; then
				cp -L "$lib" "$dest/lib64/ld-linux-x86-64.so.2"
			else
				cp -L "$lib" "$dest/lib/x86_64-linux-gnu/"
			fi
		done < <(LD_LIBRARY_PATH=$libpath ldd "$f" | awk '
			/=> not found/ { print "not found: " $1; next }
			/=>/ && $3 ~ /^\// { print $3; next }
			$1 ~ /^\// { print $1 }')
	done
}

# build_dom0_tree DIR: dom0's root file system, without the case plan.
build_dom0_tree() {
	local st=$1 f m
	rm -rf "$st"
	mkdir -p "$st"/{bin,sbin,lib64,lib/x86_64-linux-gnu,lib/modules,usr/bin,usr/sbin} \
		"$st"/{usr/lib/xen-4.17/bin,etc,root,proc,sys,dev,run,tmp,var/log,var/lib,duet}
	ln -s ../../lib/x86_64-linux-gnu "$st/usr/lib/x86_64-linux-gnu"

	cp "$bb" "$st/bin/busybox"
	for f in $("$bb" --list); do
		[[ $f == busybox ]] || ln -sf busybox "$st/bin/$f"
	done

	local xenbin=usr/lib/xen-4.17/bin
	for f in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper; do
		cp "$root/$xenbin/$f" "$st/$xenbin/"
	done
	ln -s "../lib/xen-4.17/bin/xl" "$st/usr/sbin/xl"
	for f in xenstore xenstore-{chmod,exists,list,ls,read,rm,watch,write}; do
		cp "$root/usr/bin/$f" "$st/usr/bin/"
	done
	cp -r "$root/etc/xen" "$st/etc/"

	# The hotplug scripts are bash and want util-linux's flock and losetup
	# and GNU stat (busybox lacks flock; its losetup and stat differ).
	cp /bin/bash "$st/bin/bash"
	cp "$(command -v flock)" "$(command -v stat)" "$st/usr/bin/"
	cp "$(PATH=/usr/sbin:/sbin:$PATH command -v losetup)" "$st/usr/sbin/"

	# curl, for the HTTPS cases, and redis-cli, for kv's (the host's, as
	# bash is: build-aux/deb-packages installs them).
	cp "$(command -v curl)" "$(command -v redis-cli)" "$st/usr/bin/"

	copy_with_libs "$st" "$st/$xenbin"/* "$st/usr/bin/xenstore" "$st/bin/bash" \
		"$st/usr/bin/flock" "$st/usr/bin/stat" "$st/usr/sbin/losetup" \
		"$st/usr/bin/curl" "$st/usr/bin/redis-cli"
	# glibc dlopens libgcc_s for pthread_cancel; ldd cannot see that, and
	# xl aborts without it.
	cp -L "$root/lib/x86_64-linux-gnu/libgcc_s.so.1" "$st/lib/x86_64-linux-gnu/"

	for m in "${dom0_modules[@]}"; do
		cp "$(module_path "$m")" "$st/lib/modules/"
	done
	printf '%s\n' "${dom0_modules[@]}" >"$st/duet/modules"

	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$st/etc/passwd"
	printf 'root:x:0:\n' >"$st/etc/group"
	install -m 0755 "$qemu_dir/dom0/init" "$st/init"
	install -m 0755 "$qemu_dir/dom0/run-case" "$st/duet/run-case"
	install -m 0644 "$qemu_dir/dom0/harness.sh" "$st/duet/harness.sh"
	install -m 0755 "$qemu_dir/dom0/hotplug-vif" "$qemu_dir/dom0/hotplug-block" "$st/duet/"
}

# build_guest_initramfs INIT OUT [MODULE...]: a busybox initramfs for a
# Linux test guest, with INIT as /init and the named modules of the fetched
# kernel in /lib/modules.
build_guest_initramfs() {
	local init=$1 dest=$2 st m
	shift 2
	st=$(mktemp -d)
	mkdir -p "$st"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$bb" "$st/bin/busybox"
	ln -s busybox "$st/bin/sh"
	install -m 0755 "$init" "$st/init"
	for m in "$@"; do
		cp "$(module_path "$m")" "$st/lib/modules/"
	done
	cpio_pack "$st" "$dest"
	rm -rf "$st"
}

# unpacked_linux BZIMAGE: print the path of the ELF kernel inside an
# xz-compressed Linux bzImage (unpacked once into the cache), or fail if the
# file is not one. xl's own xz decoder needs about 45 s for Debian's kernel
# under TCG; loading the ELF takes a fraction of that.
unpacked_linux() {
	local img=$1 elf off
	# A bzImage says "HdrS" at offset 514.
	[[ $(dd if="$img" bs=1 skip=514 count=4 2>/dev/null | tr -d '\0') == HdrS ]] || return 1
	elf=$cache/unpacked/$(stat -c '%s-%Y' "$img")-$(basename "$img").elf
	if [[ ! -s $elf ]]; then
		mkdir -p "$cache/unpacked"
		# The payload is the xz stream after the setup code; the magic may
		# also occur earlier, so try each match.
		while read -r off; do
			if xz -dc --single-stream < <(tail -c +$((off + 1)) "$img") >"$elf.tmp" 2>/dev/null &&
				[[ $(head -c 4 "$elf.tmp") == $'\x7fELF' ]]; then
				mv "$elf.tmp" "$elf"
				break
			fi
		done < <(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$img" | cut -d: -f1)
		rm -f "$elf.tmp"
	fi
	[[ -s $elf ]] && printf '%s\n' "$elf"
}

# stage_kernel HOST-PATH DEST: copy a guest kernel for dom0, unpacking a
# Linux bzImage on the way.
stage_kernel() {
	local src=$1 elf
	if elf=$(unpacked_linux "$src"); then
		src=$elf
	fi
	cp "$src" "$2"
}

# run_qemu BOUND INITRD [QEMU-ARG...]: boot Xen and dom0. The caller decides
# where stdin and stdout go. QEMU's -initrd splits modules on commas and a
# module's command line on spaces, so files are linked from a plain path.
run_qemu() {
	local bound=$1 initrd=$2 links
	shift 2
	links=$(mktemp -d)
	zcat "$root/boot/xen-4.17-amd64.gz" >"$links/xen.elf" # QEMU wants the ELF
	ln -s "$vmlinuz" "$links/vmlinuz"
	ln -s "$initrd" "$links/initrd"
	local rc=0
	timeout --kill-after=10 "$bound" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -m "$qemu_mem" -smp 2 \
		-nographic -no-reboot -nic none \
		-kernel "$links/xen.elf" -append "$xen_cmdline" \
		-initrd "$links/vmlinuz $dom0_cmdline,$links/initrd" "$@" || rc=$?
	rm -rf "$links"
	return "$rc"
}
