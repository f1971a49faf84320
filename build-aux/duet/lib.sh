# The front end's shared pieces, sourced by ./duet: the apps and targets,
# the dependencies a build needs, configuring and making a build directory,
# and reading an image's build record.

known_apps() {
	local d
	for d in "$top"/apps/*/manifest.am; do basename "$(dirname "$d")"; done
}

check_app() {
	local app=$1
	[[ -n $app ]] || die "which app? known apps: $(known_apps | xargs)"
	[[ -f $top/apps/$app/manifest.am ]] ||
		die "unknown app '$app' (known apps: $(known_apps | xargs))"
}

check_target() {
	case $1 in
	posix | xen) ;;
	*) die "unknown target '$1' (targets: posix, xen)" ;;
	esac
}


deb_packages() { grep -Ev '^[[:space:]]*(#|$)' "$top/build-aux/deb-packages"; }

missing_packages() {
	local p
	for p in $(deb_packages); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			echo "$p"
	done
}

# deps/ (ignored by git, never committed); deps/lwip and deps/bearssl link to
# the unpacked trees, where configure looks by default.
lwip_dir=$top/deps/lwip
bearssl_dir=$top/deps/bearssl
lwip_marker=src/core/tcp.c
bearssl_marker=src/ssl/ssl_engine.c

fetch_sources() {
	"$top/build-aux/fetch-deb-source" lwip "$top/deps" $lwip_marker
	"$top/build-aux/fetch-deb-source" bearssl "$top/deps" $bearssl_marker
}

have_sources() { [[ -f $lwip_dir/$lwip_marker && -f $bearssl_dir/$bearssl_marker ]]; }

# Sources only tests read, never built: Redis's test suite, which
# tests/posix/kv_redis_suite.sh runs against kv (it skips without it).
redis_dir=$top/deps/redis
redis_marker=tests/test_helper.tcl
fetch_test_sources() {
	"$top/build-aux/fetch-deb-source" redis "$top/deps" $redis_marker
}
have_test_sources() { [[ -f $redis_dir/$redis_marker ]]; }

# A build needs the Debian packages and the two sources. Getting them
# (apt as root, perhaps a deb-src entry added to the apt sources) is
# ./duet deps's job alone, never a side effect of a build or a run.
need_deps() {
	local missing
	missing=$(missing_packages | xargs)
	[[ -z $missing ]] || die "missing Debian packages: $missing (./duet deps installs them)"
	have_sources || die "no lwIP or BearSSL source in deps/ (./duet deps fetches them)"
}


# ----------------------------------------------------------------- build
bootstrap() {
	if [[ ! -x $top/configure || $top/configure.ac -nt $top/configure ||
		! -f $top/build-aux/tap-driver.sh ]]; then
		say "bootstrapping (autoreconf)"
		(cd "$top" && autoreconf -fi >/dev/null)
		cp "$(automake --print-libdir)/tap-driver.sh" "$top/build-aux/"
	fi
}

# configure_dir DIR ARGS... : configure an out-of-tree build once.
configure_dir() {
	local dir=$1
	shift
	bootstrap
	if [[ ! -f $dir/Makefile ]]; then
		mkdir -p "$dir"
		say "configuring $dir"
		(cd "$dir" && "$top/configure" -q "$@") || die "configure failed in $dir"
	fi
}

build_dir() {
	case $1 in
	posix) echo "$build_root/posix" ;;
	posix-asan) echo "$build_root/posix-asan" ;;
	posix-small) echo "$build_root/posix-small" ;;
	fuzz) echo "$build_root/fuzz" ;;
	xen) echo "$build_root/xen" ;;
	esac
}

# lwIP is found where configure looks by default (deps/lwip): no path goes
# into the configure arguments, which every image records, so an image can
# be rebuilt from another folder (./duet rebuild).
configure_target() {
	case $1 in
	posix) configure_dir "$(build_dir posix)" --with-platform=posix ;;
	posix-asan) configure_dir "$(build_dir posix-asan)" --with-platform=posix --enable-sanitizers ;;
	# Xen's lwIP sizes, for replaying Xen recordings (core/REPLAY.md).
	posix-small) configure_dir "$(build_dir posix-small)" --with-platform=posix --with-lwip-sizes=small ;;
	fuzz) configure_dir "$(build_dir fuzz)" --with-platform=posix --enable-sanitizers \
		CC=clang "CFLAGS=-g -O1 -fsanitize=fuzzer-no-link" ;;
	xen) configure_dir "$(build_dir xen)" --with-platform=xen ;;
	esac
}

# make_target TARGET [MAKE ARGS...]
make_target() {
	local t=$1
	shift
	configure_target "$t"
	make -C "$(build_dir "$t")" -s -j"$jobs" "$@"
}

app_image() {
	local target=$1 app=$2
	case $target in
	posix) echo "$(build_dir posix)/apps/$app/$app" ;;
	posix-small) echo "$(build_dir posix-small)/apps/$app/$app" ;;
	xen) echo "$(build_dir xen)/apps/$app/$app.xen" ;;
	esac
}

parse_target() {
	target=posix
	while [[ $# -gt 0 ]]; do
		case $1 in
		-t | --target)
			[[ $# -ge 2 ]] || die "-t needs a target (posix, xen)"
			check_target "$2"
			target=$2
			shift 2
			;;
		-t*) check_target "${1#-t}"; target=${1#-t}; shift ;;
		--) shift; break ;;
		-*) die "unknown flag '$1' (try ./duet help)" ;;
		*) break ;;
		esac
	done
	rest=("$@")
}

# build_record IMAGE: the record's text, or nothing. Through a file of our
# own: objcopy replaces its output file (and on an error removes it), which
# run as root on /dev/stdout would replace the machine's /dev/stdout.
build_record() {
	local f
	f=$(mktemp)
	objcopy -O binary --only-section=.duet.buildinfo "$1" "$f" 2>/dev/null || :
	[[ ! -f $f ]] || tr -d '\0' <"$f"
	rm -f "$f"
}

