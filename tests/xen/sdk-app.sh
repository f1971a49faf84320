#!/usr/bin/env bash
# Builds the out-of-tree app of tests/xen/cases/sdk-app.case: this Xen
# build installed into a prefix of its own, `duet new myapp` outside the
# tree, committed, and `make xen` through duet-xen.pc alone.
#   sdk-app.sh TOP_SRCDIR BUILDDIR OUTDIR   -> OUTDIR/myapp/myapp.xen
set -euo pipefail
top=$1 build=$2 out=$3

rm -rf "$out"
mkdir -p "$out"
make -s -C "$build" install prefix="$out/prefix" >"$out/install.log"
"$out/prefix/bin/duet" new "$out/myapp" >/dev/null
cd "$out/myapp"
git init -q
git add -A
git -c user.name=duet -c user.email=duet@localhost commit -qm "duet new myapp"
env -u CPATH -u C_INCLUDE_PATH -u LIBRARY_PATH \
	PKG_CONFIG_PATH="$out/prefix/lib/pkgconfig" make -s xen
