# The duet front end refuses what it does not know, clearly, before building.
. "$top_srcdir/tests/posix/lib.sh"
duet=$top_srcdir/duet

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
finish
