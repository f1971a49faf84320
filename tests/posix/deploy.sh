# `duet deploy xl|libvirt`: the configurations it writes, and its refusals.
# The images are small ELF files with the Xen notes a Duet image carries (the
# POSIX suite has no Xen build); tests/xen/cases/deploy-xl.case boots a real
# image from a generated configuration.
. "$top_srcdir/tests/posix/lib.sh"
need gcc readelf

# xenimg OUT [C-DEFINES]: an ELF with a Xen note (and, with -DNET, the
# netfront driver's log tag, as an image that links it has; with -DPVH, the
# PVH entry note).
xenimg() {
	out=$1
	shift
	cat >"$tmp/img.c" <<'C'
struct note { unsigned namesz, descsz, type; char name[4]; char desc[8]; };
__attribute__((section(".note.Xen"), used, aligned(4)))
static const struct note xen_version = { 4, 8, 5, "Xen", "xen-3.0" };
#ifdef NET
__attribute__((used)) const char tag[] = "netfront: net0";
#endif
#ifdef PVH
__attribute__((section(".note.Xen"), used, aligned(4)))
static const struct note phys32 = { 4, 8, 18, "Xen", {0} };
#endif
void _start(void) { for (;;) ; }
C
	gcc "$@" -nostdlib -static -no-pie -o "$out" "$tmp/img.c"
}
xenimg "$tmp/app.xen" -DNET || { not_ok "build a test image"; finish; }
xenimg "$tmp/plain.xen"
xenimg "$tmp/dual.xen" -DPVH
cd "$tmp" || exit 1

check "xl: a config with the given devices" 0 '^duet: deploy: wrote app.cfg' -- \
	"$duet" deploy xl "$tmp/app.xen" memory=16M extra="ip=10.0.0.2/24 port=80" \
	vif=bridge:br0,mac=00:16:3e:00:00:01 disk=/srv/site.img,ro disk=/srv/data.img
cfg=$(cat app.cfg 2>/dev/null)
for want in 'name = "app"' 'type = "pv"' "kernel = \"$tmp/app.xen\"" 'memory = 16' \
	'extra = "ip=10.0.0.2/24 port=80"' \
	"vif = \\[ 'bridge=br0,mac=00:16:3e:00:00:01' \\]" \
	"disk = \\[ 'format=raw,vdev=xvda,access=ro,target=/srv/site.img', 'format=raw,vdev=xvdb,access=rw,target=/srv/data.img' \\]" \
	'on_crash = "destroy"'; do
	if printf '%s\n' "$cfg" | grep -Eq "^$want\$"; then
		ok "xl config has: $want"
	else
		not_ok "xl config has: $want" "$cfg"
	fi
done

# Defaults: the memory floor, one vif on xenbr0 for an image with netfront,
# none for one without.
check "xl: defaults" 0 '' -- "$duet" deploy xl "$tmp/app.xen" -o d.cfg
grep -qx 'memory = 4' d.cfg && grep -qx "vif = \\[ 'bridge=xenbr0' \\]" d.cfg &&
	ok "defaults: 4 MiB and a vif on xenbr0" || not_ok "defaults: 4 MiB and a vif on xenbr0" "$(cat d.cfg)"
"$duet" deploy xl "$tmp/plain.xen" -o - 2>/dev/null | grep -q '^vif' &&
	not_ok "no vif for an image without a network driver" || ok "no vif for an image without a network driver"
check "path= names where the image lives on the host" 0 '^kernel = "/var/lib/xen/app.xen"$' -- \
	"$duet" deploy xl "$tmp/app.xen" -o - path=/var/lib/xen/app.xen

# type=pvh for an image with the PVH entry; PV stays the default.
check "xl: type=pvh" 0 '^type = "pvh"$' -- "$duet" deploy xl "$tmp/dual.xen" -o - type=pvh
check "xl: type=pv is the default" 0 '^type = "pv"$' -- "$duet" deploy xl "$tmp/dual.xen" -o -
check "libvirt: type=pvh" 0 "<type arch='x86_64' machine='xenpvh'>xenpvh</type>" -- \
	"$duet" deploy libvirt "$tmp/dual.xen" -o - type=pvh

# libvirt: the same devices, and a document libvirt's own schema accepts.
check "libvirt: a domain document" 0 '^duet: deploy: wrote app.xml' -- \
	"$duet" deploy libvirt "$tmp/app.xen" memory=1G extra="ip=dhcp" \
	vif=bridge:br0,mac=00:16:3e:00:00:01 disk=/srv/site.img,ro
xml=$(cat app.xml 2>/dev/null)
for want in "<domain type='xen'>" "<memory unit='MiB'>1024</memory>" \
	"<type arch='x86_64' machine='xenpv'>linux</type>" "<kernel>$tmp/app.xen</kernel>" \
	"<cmdline>ip=dhcp</cmdline>" "<source file='/srv/site.img'/>" "<target dev='xvda' bus='xen'/>" \
	"<readonly/>" "<source bridge='br0'/>" "<mac address='00:16:3e:00:00:01'/>"; do
	if printf '%s\n' "$xml" | grep -qF -- "$want"; then
		ok "libvirt XML has: $want"
	else
		not_ok "libvirt XML has: $want" "$xml"
	fi
done
if command -v virt-xml-validate >/dev/null 2>&1; then
	check "libvirt's schema accepts the document" 0 '' -- virt-xml-validate app.xml domain
else
	ok "libvirt's schema accepts the document # SKIP virt-xml-validate not installed (libvirt-clients)"
fi

# Refusals: exit 2, a message, and nothing written.
refuse() {
	what=$1 pattern=$2
	shift 2
	rm -f app.cfg app.xml
	check "refused: $what" 2 "$pattern" -- "$duet" deploy "$@"
	if ls app.cfg app.xml .deploy.* >/dev/null 2>&1; then
		not_ok "refused: $what: nothing written" "$(ls -a)"
	else
		ok "refused: $what: nothing written"
	fi
}
refuse "a missing image" 'no such file' xl "$tmp/none.xen"
refuse "a POSIX image" 'is a POSIX build' xl "$top_builddir/apps/hello/hello"
refuse "a file that is no image" 'not an ELF image' xl "$top_srcdir/README.md"
refuse "an unknown format" "unknown format 'vmx'" vmx "$tmp/app.xen"
refuse "an unknown key" "unknown key 'colour'" xl "$tmp/app.xen" colour=blue
refuse "a malformed size" "memory: '12Q' is not a size" libvirt "$tmp/app.xen" memory=12Q
refuse "a size below Xen's floor" 'below Xen' xl "$tmp/app.xen" memory=2
refuse "an unknown type" "type: 'hvm' must be pv or pvh" xl "$tmp/app.xen" type=hvm
refuse "type=pvh for an image without a PVH entry" 'has no PVH entry' xl "$tmp/app.xen" type=pvh
refuse "a malformed MAC" "'00:16:3e:zz:00:01' is not a unicast MAC" xl "$tmp/app.xen" vif=bridge:br0,mac=00:16:3e:zz:00:01
refuse "a multicast MAC" 'not a unicast MAC' libvirt "$tmp/app.xen" vif=bridge:br0,mac=01:00:5e:00:00:01
refuse "a relative disk path" "must be an absolute path" xl "$tmp/app.xen" disk=site.img
refuse "a quote in extra" 'extra: quotes' xl "$tmp/app.xen" 'extra=a"b'
refuse "markup in a libvirt name" "name: " libvirt "$tmp/app.xen" 'name=<x>'
finish
