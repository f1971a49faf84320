# ./duet rebuild.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

# An image names what it was built from (gen-buildinfo): the commit, the
# configure arguments, the compiler, the libraries. rebuild takes that
# commit from this repository (git archive, so nothing of the working tree
# leaks in), builds the same app with the same arguments in a scratch
# folder, and compares: a Xen image byte for byte, a POSIX binary without
# its debug information and build id (they name the folder it was built
# in). Exit 0: identical; 1: different; 3: cannot be checked here (a dirty
# or unknown commit, another compiler, a commit this clone lacks).

# parse_configure_args TEXT: configure's own record of its arguments
# ($ac_configure_args: each one in single quotes, space-separated) into the
# array confargs, without a shell. The record comes from the image, which
# anyone may have crafted: only options and VAR=value words made of
# characters a configure line needs are taken; anything else fails.
parse_configure_args() {
	local rest=$1 word
	confargs=()
	while [[ -n $rest ]]; do
		rest=${rest#" "}
		[[ $rest =~ ^\'([^\']*)\'( |$) ]] || return 1
		word=${BASH_REMATCH[1]}
		rest=${rest:${#BASH_REMATCH[0]}}
		[[ $word =~ ^(--[a-z][a-z0-9-]*|[A-Z_][A-Z0-9_]*)(=[A-Za-z0-9_./,:+=@% -]*)?$ ]] || return 1
		confargs+=("$word")
	done
}

# copy_dep NAME DIR VERSION: the source tree DIR (of version VERSION) into
# the rebuild's deps/, if it is the version the record names.
copy_dep() {
	local want=${libs##*"$1"-} real
	want=${want%% *}
	[[ $3 == "$want" ]] || cannot "it used $1 $want; deps/$1 is ${3:-missing} (./duet deps)"
	real=$(readlink -f "$2")
	mkdir -p "$tmp/src/deps"
	cp -a "$real" "$tmp/src/deps/"
	ln -s "$(basename "$real")" "$tmp/src/deps/$1"
}

cmd_rebuild() {
	[[ $# -eq 1 ]] || die "usage: ./duet rebuild IMAGE"
	local img=$1 rec commit platform conf compiler libs app here tmp out
	[[ -f $img ]] || die "no such image: $img"
	rec=$(build_record "$img")
	field() { sed -n "s/^duet\.$1=//p" <<<"$rec"; }
	commit=$(field commit) platform=$(field platform) conf=$(field configure)
	compiler=$(field compiler) libs=$(field libraries)
	[[ -n $commit && -n $platform ]] || die "$img has no build record"
	cannot() { echo "duet: rebuild: cannot check $img: $*" >&2; exit 3; }
	# An app built outside the tree names its own commit too: its sources
	# are in its repository, not in this one.
	local app_commit
	app_commit=$(sed -n 's/^app\.commit=//p' <<<"$rec")
	[[ -z $app_commit || $app_commit == "$commit" ]] ||
		cannot "it was built outside this tree, from the app's commit $app_commit against Duet $(field version) at $commit: rebuild it in the app's repository at $app_commit, with Duet $commit installed (configure $conf), and compare the stripped images"
	case $commit in
	*-dirty) cannot "it was built from a tree with uncommitted changes ($commit)" ;;
	unknown | unborn) cannot "its commit is unknown" ;;
	esac
	local -a confargs
	parse_configure_args "$conf" ||
		cannot "its configure arguments are not a plain list of options ($conf)"
	git -C "$top" cat-file -e "$commit^{commit}" 2>/dev/null ||
		cannot "commit $commit is not in this repository"
	here=$(gcc --version | head -n 1)
	[[ $here == "$compiler" ]] || cannot "it was built with '$compiler', this machine has '$here'"
	app=$(basename "$img" .xen)
	git -C "$top" cat-file -e "$commit:apps/$app/manifest.am" 2>/dev/null ||
		cannot "no app '$app' at $commit (the image's name names the app)"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	mkdir "$tmp/src" "$tmp/build"
	git -C "$top" archive "$commit" | tar -x -C "$tmp/src"
	# No .git there: the record's commit comes from .duet-commit, as in a
	# release tarball.
	printf '%s\n' "$commit" >"$tmp/src/.duet-commit"
	# The same lwIP and BearSSL sources, if the record names them, where
	# configure looks by default.
	if [[ $libs == *lwip-* ]]; then
		local have
		have=$(grep -E '^#define LWIP_VERSION_(MAJOR|MINOR|REVISION) ' \
			"$lwip_dir/src/include/lwip/init.h" 2>/dev/null | tr -d "\r" |
			awk '{ v = v (v == "" ? "" : ".") $3 } END { print v }' || :)
		copy_dep lwip "$lwip_dir" "$have"
	fi
	if [[ $libs == *bearssl-* ]]; then
		# As configure.ac names it: the upstream part of the Debian version.
		copy_dep bearssl "$bearssl_dir" "$(sed -n '1s/^bearssl (\([^)-]*\).*/\1/p' \
			"$bearssl_dir/debian/changelog" 2>/dev/null || :)"
	fi
	say "rebuilding $app ($platform) from commit $commit, configure $conf"
	(cd "$tmp/src" && autoreconf -fi >"$tmp/log" 2>&1) || { cat "$tmp/log" >&2; die "autoreconf failed"; }
	out=apps/$app/$app
	[[ $platform == xen ]] && out+=.xen
	# By its full path, as ./duet configures: sources are then named by
	# full paths, which -fmacro-prefix-map shortens alike.
	(cd "$tmp/build" && "$tmp/src/configure" "${confargs[@]+"${confargs[@]}"}" >>"$tmp/log" 2>&1 &&
		make -j"$jobs" "$out" >>"$tmp/log" 2>&1) ||
		{ tail -n 30 "$tmp/log" >&2; die "the rebuild failed"; }
	local a=$img b=$tmp/build/$out
	if [[ $platform != xen ]]; then
		objcopy --strip-all --remove-section=.note.gnu.build-id "$img" "$tmp/a"
		objcopy --strip-all --remove-section=.note.gnu.build-id "$b" "$tmp/b"
		a=$tmp/a b=$tmp/b
	fi
	if cmp -s "$a" "$b"; then
		echo "duet: rebuild: $img is identical to a rebuild from $commit ($(wc -c <"$a") bytes compared)"
		return 0
	fi
	echo "duet: rebuild: $img differs from a rebuild from $commit:" >&2
	cmp "$a" "$b" 2>&1 | head -n 1 >&2
	exit 1
}

