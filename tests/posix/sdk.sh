# The SDK: `make install` into a fresh prefix, then an app outside the tree,
# made by `duet new`, built for POSIX through pkg-config alone, run, and its
# build record read. tests/xen/cases/sdk-app.case boots the same app's .xen.
. "$top_srcdir/tests/posix/lib.sh"
need git pkg-config make objcopy nm
pfx=$tmp/prefix

# ------------------------------------------------------------- install
check "make install into a fresh prefix" 0 '' -- \
	make -s -C "$top_builddir" install prefix="$pfx"
for f in lib/pkgconfig/duet-posix.pc lib/duet/posix/libduet_core.a \
	lib/duet/posix/libduet_posix.a lib/duet/posix/libduet_lwip.a \
	lib/duet/posix/liblwip.a lib/duet/posix/libduet_storage.a \
	lib/duet/posix/libduet_tls.a lib/duet/posix/libduet_bearssl.a include/duet/tls.h \
	include/duet/duet.h include/duet/kv.h libexec/duet/gen-buildinfo \
	share/duet/new-app/Makefile bin/duet; do
	[ -f "$pfx/$f" ] && ok "installed $f" || not_ok "installed $f"
done
src=$(cd "$top_srcdir" && pwd -P) build=$(cd "$top_builddir" && pwd -P)
# (The build record's copy of the configure arguments is history, not a
# path anything follows: make distcheck's name the tree.)
leaks=$(grep -rI -e "$src" -e "$build" "$pfx" 2>/dev/null | grep -v ':duet_configure=')
[ -z "$leaks" ] && ok "nothing installed names the source or build tree" ||
	not_ok "nothing installed names the source or build tree" "$leaks"

# ------------------------------------------------------------ duet new
# The installed duet, from outside the tree: its SDK commands only.
duet=$pfx/bin/duet
check "the installed duet lists its commands" 0 '^  duet new DIR' -- "$duet" help
check "the installed duet has no tree commands" 2 "unknown command 'build' \(commands: info, mkimage, symbolize, deploy, new\)" -- \
	"$duet" build hello
export PKG_CONFIG_PATH=$pfx/lib/pkgconfig
unset CPATH C_INCLUDE_PATH LIBRARY_PATH
mkdir "$tmp/work"
check "duet new writes an app" 0 'wrote .*/myapp/' -- "$duet" new "$tmp/work/myapp"
app=$tmp/work/myapp
(cd "$app" && git init -q && git add -A &&
	git -c user.name=t -c user.email=t@t commit -qm new) ||
	not_ok "commit the new app"
app_commit=$(git -C "$app" rev-parse --short=12 HEAD)

check "make posix: the app builds through pkg-config alone" 0 '' -- \
	make -s -C "$app" posix
check "the app runs as a process" 0 'info  myapp: hello from myapp \(commit '"$app_commit"'\)' -- \
	"$app/myapp" ticks=1
record=$("$duet" info "$app/myapp")
duet_commit=$("$top_srcdir/build-aux/gen-buildinfo" --commit "$top_srcdir")
printf '%s\n' "$record" | grep -qx "app.commit=$app_commit" &&
	ok "the record names the app's commit, clean" ||
	not_ok "the record names the app's commit, clean" "$record"
printf '%s\n' "$record" | grep -qx "duet.commit=$duet_commit" &&
	ok "the record names the Duet commit it linked" ||
	not_ok "the record names the Duet commit it linked" "$record"
git -C "$app" status --porcelain | grep -q . &&
	not_ok "the build leaves the app's tree clean" "$(git -C "$app" status --porcelain)" ||
	ok "the build leaves the app's tree clean"

check "duet rebuild says what it cannot recover of an app outside the tree" 3 \
	"built outside this tree, from the app's commit $app_commit against Duet" -- \
	"$top_srcdir/duet" rebuild "$app/myapp"

# The Makefile's MODULES line is the manifest: what links is what it names.
if nm "$app/myapp" | grep -q duet__stack_lwip; then
	not_ok "no MODULES: no network stack linked"
else
	ok "no MODULES: no network stack linked"
fi
check "MODULES=net storage builds" 0 '' -- make -s -C "$app" posix MODULES="net storage" -B
syms=$(nm "$app/myapp")
printf '%s\n' "$syms" | grep -q duet__stack_lwip &&
	printf '%s\n' "$syms" | grep -q duet__stack_socket &&
	ok "MODULES=net: lwIP and the socket stack linked" ||
	not_ok "MODULES=net: lwIP and the socket stack linked"

# ------------------------------------------------------------ refusals
check "duet new into a folder with files is refused" 2 'not an empty folder: nothing written' -- \
	"$duet" new "$app"
[ "$(git -C "$app" status --porcelain --untracked-files=no)" = "" ] &&
	ok "the refused duet new wrote nothing" || not_ok "the refused duet new wrote nothing"
check "duet new with a bad name is refused" 2 "an app's name is" -- \
	"$duet" new "$tmp/work/My-App"
[ ! -e "$tmp/work/My-App" ] && ok "the bad name wrote nothing" || not_ok "the bad name wrote nothing"
finish
