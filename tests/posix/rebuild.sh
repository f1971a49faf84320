# Every image records what it was built from; `./duet rebuild` builds that
# commit again from the repository (not the working tree) with the recorded
# configuration and compares. This checks the claim on the hello image this
# very build made, and that a changed image is caught.
. "$top_srcdir/tests/posix/lib.sh"

[ -n "${DUET_SANITIZERS:-}" ] && skip_all "checked in the plain build (a rebuild takes a while)"
command -v git >/dev/null || skip_all "git not installed"
# The top of a checkout (a release tarball, as in make distcheck, has no
# history to rebuild from).
[ -e "$top_srcdir/.git" ] || skip_all "not a git checkout"


# A record is read from the image, which anyone can craft: configure
# arguments that would run shell code are refused, and nothing runs. The
# record's section is rewritten in place (same size, NUL-padded).
size=$((0x$(readelf -SW "$hello" | sed -n 's/.* \.duet\.buildinfo  *PROGBITS  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')))
head_commit=$(git -C "$top_srcdir" rev-parse --short=12 HEAD)
for conf in "'--with-platform=posix' '\$(touch $tmp/pwned)'" \
	"'--with-platform=posix \`touch $tmp/pwned\`'" \
	"'--with-platform=posix'; touch $tmp/pwned; '--x'" \
	"'--with-platform=posix' > $tmp/pwned"; do
	printf 'duet.version=0.1.0\nduet.platform=posix\nduet.commit=%s\nduet.configure=%s\n' \
		"$head_commit" "$conf" >"$tmp/rec"
	truncate -s "$size" "$tmp/rec"
	cp "$hello" "$tmp/crafted"
	if ! objcopy --update-section .duet.buildinfo="$tmp/rec" "$tmp/crafted" 2>"$tmp/err"; then
		not_ok "craft a record: $conf" "$(cat "$tmp/err")"
		continue
	fi
	out=$(timeout 60 "$duet" rebuild "$tmp/crafted" 2>&1)
	status=$?
	if [ "$status" -eq 3 ] && printf '%s\n' "$out" | grep -q 'not a plain list of options' &&
		[ ! -e "$tmp/pwned" ]; then
		ok "a record with shell in its configure arguments is refused, nothing run: $conf"
	else
		not_ok "a record with shell in its configure arguments is refused, nothing run: $conf" \
			"exit $status; pwned: $([ -e "$tmp/pwned" ] && echo yes || echo no)" "$out"
	fi
done

out=$(timeout 600 "$duet" rebuild "$hello" 2>&1)
status=$?
case $status in
0) ok "hello rebuilds identical from its record: $(printf '%s\n' "$out" | tail -n 1)" ;;
3)
	# A tree with uncommitted changes (while developing) cannot be
	# rebuilt exactly; CI's clean checkout always can.
	echo "# $(printf '%s\n' "$out" | tail -n 1)"
	ok "hello rebuild not checkable here # SKIP $(printf '%s\n' "$out" | tail -n 1 | sed 's/.*: //')"
	finish
	;;
*) not_ok "hello rebuilds identical from its record" "exit $status" "$out" ;;
esac

# One byte of code changed (in .text, away from the build record): caught.
cp "$hello" "$tmp/hello"
off=$(readelf -SW "$hello" | sed -n 's/.* \.text  *PROGBITS  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
off=$((0x$off + 64))
byte=$(od -An -tu1 -j "$off" -N1 "$hello" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" |
	dd of="$tmp/hello" bs=1 seek="$off" conv=notrunc status=none
out=$(timeout 600 "$duet" rebuild "$tmp/hello" 2>&1)
status=$?
if [ "$status" -eq 1 ] && printf '%s\n' "$out" | grep -q 'differs from a rebuild'; then
	ok "a changed image is reported as different"
else
	not_ok "a changed image is reported as different" "exit $status" "$out"
fi

printf 'not an image\n' >"$tmp/junk"
check "a file without a build record is refused" 2 'has no build record' -- \
	"$duet" rebuild "$tmp/junk"
finish
