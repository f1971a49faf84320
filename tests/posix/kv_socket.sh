# kv on the POSIX socket stack (loopback only), its store on a file-backed
# disk: redis-cli and Python's redis library as clients, Redis's error
# replies, hostile input, restarts (orderly, and kill -9 under a write load:
# every acknowledged write is there after), and the refusals at start.
. "$top_srcdir/tests/posix/lib.sh"
client=$top_srcdir/tests/posix/kv_client.py

need python3 redis-cli redis-benchmark
# Debian's python3-redis is for Debian's python3 (the first python3 on PATH
# may be another).
pyredis=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import redis' 2>/dev/null && { pyredis=$p; break; }
done
[ -n "$pyredis" ] ||
	skip_all "python3-redis not installed (apt-get install python3-redis, or ./duet deps)"

img=$tmp/kv.img
truncate -s 64M "$img"
port=$(free_port)
cli="redis-cli -p $port"
py="$pyredis $client 127.0.0.1 $port"

# start LOG [ARGS...]: kv on $img at $port, waited for (pid).
start() {
	start_log=$1
	shift
	serve 'kv: serving' "$start_log" "$kv" --block disk0="$img" port="$port" addr=127.0.0.1 "$@"
}

start "$tmp/first.log"
grep -q 'kv: store: disk0 was blank: formatted' "$tmp/first.log" &&
	grep -q "kv: serving 0 keys on TCP 127.0.0.1 port $port (socket stack, log store, durable)" "$tmp/first.log" &&
	ok "formats a blank disk and serves on the socket stack" ||
	not_ok "formats a blank disk and serves on the socket stack" "$(cat "$tmp/first.log")"

check "redis-cli: PING" 0 '^PONG$' -- $cli ping
check "redis-cli: SET" 0 '^OK$' -- $cli set greeting "hello world"
check "redis-cli: GET" 0 '^hello world$' -- $cli get greeting
check "redis-cli: an unknown command gets Redis's error" 0 \
	"^ERR unknown command 'frob', with args beginning with: 'x' $" -- $cli frob x
check "redis-cli: INFO names a Redis version" 0 '^redis_version:' -- $cli info server
check "redis-cli: SET with EX, then TTL" 0 '^(99|100)$' -- \
	sh -c "$cli set t v ex 100 >/dev/null && $cli ttl t"
check "python3-redis: strings, counters, expiry, SCAN, pipelines" 0 '^pass' -- $py basic
check "python3-redis: Redis's error replies" 0 '^pass' -- $py errors
check "hostile clients: oversized requests, trickling, pipelining without reading" \
	0 '^pass' -- $py hostile
check "redis-benchmark: durable SET and GET, 20 clients" 0 '^"GET","[0-9]' -- \
	redis-benchmark -p "$port" -t set,get -n 4000 -c 20 --csv

# ------------------------------------------------------------ restarts
$cli set survivor "still here" >/dev/null
$cli set t v ex 100 >/dev/null
stop "$pid"
status=$?
[ "$status" -eq 0 ] && grep -q 'kv: stopping: ' "$tmp/first.log" &&
	ok "SIGTERM: orderly stop, exit 0" ||
	not_ok "SIGTERM: orderly stop, exit 0" "status $status" "$(tail -5 "$tmp/first.log")"
start "$tmp/second.log"
grep -Eq 'kv: store: [1-9][0-9]* keys loaded' "$tmp/second.log" &&
	ok "a restart loads the store" || not_ok "a restart loads the store" "$(cat "$tmp/second.log")"
check "keys survive a restart" 0 '^still here$' -- $cli get survivor
check "expiry survives a restart" 0 '^(9[0-9]|100)$' -- $cli ttl t

# kill -9 under a write load: redis-benchmark's clients and 8 writers that
# log each SET as it is acknowledged. After a restart on the same disk,
# every acknowledged write must be there.
: >"$tmp/acked"
spawn /dev/null $py writer "$tmp/acked" 8
writer=$!
spawn /dev/null redis-benchmark -p "$port" -t set -n 1000000 -c 20 -r 100000 -q
bench=$!
sleep 2
stop "$pid" KILL 2>/dev/null
sleep 0.2
stop "$writer" KILL 2>/dev/null
stop "$bench" KILL 2>/dev/null
start "$tmp/third.log"
check "kill -9 under load: every acknowledged write is there" 0 '^pass' -- \
	$py check "$tmp/acked"
stop "$pid"

# ------------------------------------------------------------ refusals
check "no disk: refused, with what to do" 1 'no block device disk0: give one' -- \
	"$kv" port="$port" addr=127.0.0.1
check "a disk that is neither blank nor a store is refused, untouched" 1 \
	'neither blank nor a kv store' -- \
	sh -c "head -c 1048576 /dev/urandom >'$tmp/junk.img' && cp '$tmp/junk.img' '$tmp/junk0.img' &&
		'$kv' --block disk0='$tmp/junk.img' port=$port addr=127.0.0.1; s=\$?;
		cmp -s '$tmp/junk.img' '$tmp/junk0.img' || echo CHANGED; exit \$s"
check "bad store= is refused" 2 'store=tape: disk or memory' -- \
	"$kv" port="$port" store=tape
serve 'kv: serving' "$tmp/mem.log" "$kv" port="$port" addr=127.0.0.1 store=memory
grep -q 'store=memory: nothing is kept' "$tmp/mem.log" &&
	ok "store=memory says nothing is kept" || not_ok "store=memory says nothing is kept" "$(cat "$tmp/mem.log")"
check "store=memory serves" 0 '^OK$' -- $cli set k v
stop "$pid"

# max_conns=2: a third client evicts the idle first one and is served.
start "$tmp/pool.log" max_conns=2
check "max_conns=2: a newcomer evicts the idle connection" 0 '^pass' -- \
	python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    return s
a = conn()
time.sleep(0.3)
b = conn()
time.sleep(0.3)
c = conn()
try:
    gone = a.recv(100) == b""
except OSError:
    gone = True
print("pass" if gone else "fail: the oldest idle connection stayed")
PY
stop "$pid"
grep -Eq 'kv: connections: 3 admitted, at most 2 at once; .* 1 pool full, idle' "$tmp/pool.log" &&
	ok "the eviction is counted" || not_ok "the eviction is counted" "$(grep 'kv:' "$tmp/pool.log")"

finish
