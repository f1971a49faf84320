# Redis's own test suite against kv: the units type/string, keyspace and
# expire of Debian's redis source package (deps/redis, fetched by
# ./duet deps), run with --host/--port against kv on a file-backed disk.
# Tests that need what kv lacks (other types, replication, DEBUG, ...)
# are skipped by name (tests/posix/kv_redis_skip.txt, each with why); every
# other test of the three units must pass.
. "$top_srcdir/tests/posix/lib.sh"
redis=$top_srcdir/deps/redis

[ -f "$redis/tests/test_helper.tcl" ] ||
	skip_all "no Redis source in deps/ (./duet deps fetches it)"
need tclsh

# The suite writes beside itself: run a copy.
mkdir -p "$tmp/redis"
cp -r "$redis/tests" "$redis/runtest" "$tmp/redis/"
grep -v '^#' "$top_srcdir/tests/posix/kv_redis_skip.txt" | cut -f1 >"$tmp/skip"

truncate -s 256M "$tmp/kv.img"
port=$(free_port)
serve 'kv: serving' "$tmp/kv.log" "$kv" --block disk0="$tmp/kv.img" port="$port" addr=127.0.0.1

for unit in type/string keyspace expire; do
	(cd "$tmp/redis" && timeout 600 ./runtest --host 127.0.0.1 --port "$port" \
		--singledb --tags "-needs:repl -needs:debug" --skipfile "$tmp/skip" \
		--single "unit/$unit") 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$tmp/out"
	passed=$(grep -c '^\[ok\]' "$tmp/out")
	failed=$(grep -Ec '^\[(err|exception)\]' "$tmp/out")
	skipped=$(grep -c '^\[skip\]' "$tmp/out")
	if grep -q 'All tests passed without errors' "$tmp/out" && [ "$failed" -eq 0 ] &&
		[ "$passed" -gt 0 ]; then
		ok "Redis's unit/$unit: $passed passed, $skipped skipped by name"
	else
		not_ok "Redis's unit/$unit: $passed passed, $failed failed" \
			"$(grep -E -A6 '^\[(err|exception)\]' "$tmp/out" | head -40)"
	fi
done
stop "$pid"
status=$?
[ "$status" -eq 0 ] && ok "kv stops in order after the suite" ||
	not_ok "kv stops in order after the suite" "status $status" "$(tail -5 "$tmp/kv.log")"
finish
