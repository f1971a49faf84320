#!/usr/bin/env bash
# Fetch the Xen 4.17 hypervisor, toolstack, a Linux kernel and busybox from
# Debian's archive into the cache, for the tests/xen harness.
#
# Nothing is installed on the host: packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` into
#   ${DUET_CACHE:-<repo-top>/.cache}/xen/{debs,root}
# A stamp file records what was fetched; later runs reuse the cache without
# touching the network. Delete the cache folder (or set DUET_XEN_REFETCH=1)
# to start over.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=$(realpath -m "${DUET_CACHE:-$top/.cache}/xen")
stamp=$cache/fetched.stamp

# Bump when the package list changes so that old caches are refreshed.
format=1

# Runtime libraries of the toolstack. The non-Xen ones are usually on the host
# already, but a minimal Debian image may lack some (libext2fs2, libncurses6),
# and fetching them keeps the dom0 image independent of what the host has.
packages=(
	xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
	libxenmisc4.17 libxencall1 libxenevtchn1 libxenforeignmemory1
	libxengnttab1 libxenstore4 libxentoollog1 libxendevicemodel1
	libxenhypfs1 libxentoolcore1 libyajl2
	libext2fs2 libncurses6 libtinfo6 libuuid1 liblzma5 libzstd1 zlib1g
	libgcc-s1
	busybox-static grub-xen-host
)

log() { printf 'xen-fetch: %s\n' "$*" >&2; }

# Concurrent runs wait for one fetch instead of racing on the same folders.
mkdir -p "$cache"
exec {lock}>"$cache/fetch.lock"
flock "$lock"

if [[ -f $stamp && ${DUET_XEN_REFETCH:-0} != 1 ]] &&
	grep -qx "format=$format" "$stamp"; then
	exit 0
fi

# The kernel that linux-image-amd64 points at today; the stamp pins it so the
# cache stays valid when the archive moves on.
kernel=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
if [[ -z $kernel ]]; then
	log "cannot resolve linux-image-amd64 (did 'apt-get update' run?)"
	exit 1
fi

log "downloading ${#packages[@]} packages and $kernel into $cache"
rm -rf "$cache/debs.new" "$cache/root.new"
mkdir -p "$cache/debs.new" "$cache/root.new"
# apt drops privileges to _apt for downloads; the folder must let it write.
chmod 0777 "$cache/debs.new"
(cd "$cache/debs.new" && apt-get download -q "${packages[@]}" "$kernel") >&2

for deb in "$cache"/debs.new/*.deb; do
	dpkg -x "$deb" "$cache/root.new"
done

# Swap in the new tree only once it is complete, so an interrupted fetch
# never leaves a half-unpacked cache behind a valid stamp.
rm -rf "$cache/debs" "$cache/root"
mv "$cache/debs.new" "$cache/debs"
mv "$cache/root.new" "$cache/root"
chmod 0755 "$cache/debs"
{
	echo "format=$format"
	echo "kernel=${kernel#linux-image-}"
} >"$stamp"
log "done"
