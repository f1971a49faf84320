# The duet front end refuses what it does not know, clearly, before building.
. "$top_srcdir/tests/posix/lib.sh"

check "unknown app" 2 "unknown app 'nosuchapp' \(known apps: .*hello" -- "$duet" run nosuchapp
check "unknown target" 2 "unknown target 'arm' \(targets: posix, xen\)" -- "$duet" build -t arm hello
check "missing target value" 2 "-t needs a target" -- "$duet" build -t
check "unknown flag" 2 "unknown flag '--frob'" -- "$duet" build --frob hello
check "unknown command" 2 "unknown command 'frob'" -- "$duet" frob
check "unknown test suite" 2 "unknown suite 'nope'" -- "$duet" test nope
check "run without an app" 2 "run needs an app" -- "$duet" run
check "build of two apps" 2 "at most one app" -- "$duet" build hello hello
check "unknown benchmark" 2 "unknown benchmark 'redis'" -- "$duet" bench redis
check "mkimage without -o" 2 "usage: ./duet mkimage DIR -o IMG" -- "$duet" mkimage /tmp
check "mkimage of a missing folder" 2 "is not a folder" -- "$duet" mkimage /nonexistent -o /tmp/x.img
check "symbolize without an app" 2 "usage: ./duet symbolize APP" -- "$duet" symbolize
check "symbolize of an unknown app" 2 "unknown app 'nosuchapp'" -- "$duet" symbolize nosuchapp
check "help" 0 "duet build" -- "$duet" help

# One list of commands: what help shows is what the dispatcher takes and
# what its refusal names.
shown=$("$duet" help | sed -n 's|^  ./duet \([a-z]*\).*|\1|p' | xargs)
named=$("$duet" frob 2>&1 | sed -n 's/.*(commands: \(.*\))$/\1/p' | tr -d ,)
[ -n "$shown" ] && [ "$shown" = "$named" ] && ok "help and the refusal name the same commands" ||
	not_ok "help and the refusal name the same commands" "help: $shown" "refusal: $named"

# Fetching sources (which may add an apt source) is ./duet deps's alone: a
# tree without them is refused with that advice, and nothing is fetched.
cp -a "$top_srcdir/duet" "$top_srcdir/build-aux" "$tmp/"
check "a build without the sources points to ./duet deps" 2 \
	"no lwIP or BearSSL source in deps/ \(./duet deps fetches them\)" -- "$tmp/duet" build hello
[ ! -e "$tmp/deps" ] && ok "the refused build fetched nothing" || not_ok "the refused build fetched nothing"
finish
