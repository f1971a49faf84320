# ./duet build, run and info.
# Sourced by ./duet (build-aux/duet/lib.sh first); defines cmd_* functions.

cmd_build() {
	parse_target "$@"
	set -- "${rest[@]+"${rest[@]}"}"
	[[ $# -le 1 ]] || die "build takes at most one app"
	need_deps
	if [[ $# -eq 1 ]]; then
		check_app "$1"
		make_target "$target" "$(app_image "$target" "$1" | sed "s|^$(build_dir "$target")/||")"
		[[ -n ${quiet:-} ]] || say "built $(app_image "$target" "$1")"
	else
		make_target "$target"
	fi
}

cmd_run() {
	parse_target "$@"
	set -- "${rest[@]+"${rest[@]}"}"
	[[ $# -ge 1 ]] || die "run needs an app (known apps: $(known_apps | xargs))"
	local app=$1
	shift
	check_app "$app"
	quiet=1 cmd_build -t "$target" "$app"
	case $target in
	posix)
		[[ $app == httpd ]] || exec "$(app_image posix "$app")" "$@"
		# httpd's cert= and key= may name files here (build-aux/host-keys)
		local keys args=() a
		keys=$(mktemp -d "${TMPDIR:-/tmp}/duet-keys.XXXXXX")
		# shellcheck disable=SC2064 # expanded now: keys is local
		trap "rm -rf $(printf %q "$keys")" EXIT
		"$tools/host-keys" "$keys" "$@" >"$keys/args" || exit 2
		while IFS= read -r -d '' a; do args+=("$a"); done <"$keys/args"
		"$(app_image posix "$app")" "${args[@]+"${args[@]}"}"
		;;
	xen) exec "$top/platform-xen/qemu/boot.sh" "$(app_image xen "$app")" "$@" ;;
	esac
}

# xen_modes IMAGE: the guest modes a Xen image boots in, from its ELF
# notes (PVH: the 32-bit physical entry, XEN_ELFNOTE_PHYS32_ENTRY = 18);
# nothing for an image without Xen notes.
xen_modes() {
	local notes
	notes=$(readelf -nW "$1" 2>/dev/null | grep '^  Xen ') || return 0
	if grep -Eq '0x00000012|PHYS32' <<<"$notes"; then
		echo "xen.modes=pv pvh"
	else
		echo "xen.modes=pv"
	fi
}

# info APP (built first) or info IMAGE (any image file, also one built
# outside the tree: its record names both the app's and Duet's commits),
# and for a Xen image the guest modes it boots in.
cmd_info() {
	parse_target "$@"
	set -- "${rest[@]+"${rest[@]}"}"
	[[ $# -eq 1 ]] || die "info needs one app or image"
	if [[ $1 == */* || -f $1 ]]; then
		[[ -f $1 ]] || die "no such image: $1"
		local rec
		rec=$(build_record "$1")
		[[ -n $rec ]] || die "$1 has no build record (not a Duet image?)"
		printf '%s\n' "$rec"
		xen_modes "$1"
		return
	fi
	check_app "$1"
	quiet=1 cmd_build -t "$target" "$1"
	build_record "$(app_image "$target" "$1")"
	echo
	xen_modes "$(app_image "$target" "$1")"
}
