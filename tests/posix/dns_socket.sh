# dns on the POSIX socket stack (the host's UDP, loopback only): answers
# checked byte by byte by tests/posix/dns_client.py over IPv4 and IPv6,
# malformed input, a burst of garbage, the counters and an orderly stop.
. "$top_srcdir/tests/posix/lib.sh"
client=$top_srcdir/tests/posix/dns_client.py

need python3

# Without an IPv6 loopback, IPv4 only (addr= unset means both).
v6=yes addr=
python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' \
	2>/dev/null || { v6= addr=addr=127.0.0.1; }
port=$(free_port)
serve 'dns: serving' "$tmp/dns.log" "$dns" port="$port" $addr
grep -q "serving 2 zones on UDP and TCP .* port $port (socket stack)" "$log" &&
	grep -q 'zone example.com.: 20 records' "$log" &&
	ok "starts on the socket stack with both embedded zones" ||
	not_ok "starts on the socket stack with both embedded zones" "$(cat "$log")"

py="python3 $client 127.0.0.1 $port"
check "A, byte for byte" 0 '^pass' -- $py a
check "AAAA" 0 '^pass' -- $py aaaa
check "CNAME chain followed within the zone, compressed" 0 '^pass' -- $py cname
check "NXDOMAIN with the SOA in authority" 0 '^pass' -- $py nxdomain
check "NODATA: NOERROR with the SOA" 0 '^pass' -- $py nodata
check "REFUSED outside the zones" 0 '^pass' -- $py refused
check "case-insensitive, the question's case kept" 0 '^pass' -- $py case
check "TC without EDNS for a big TXT; whole with EDNS" 0 '^pass' -- $py tc
check "FORMERR for malformed queries" 0 '^pass' -- $py formerr
check "NOTIMP for other opcodes" 0 '^pass' -- $py notimp
check "no answer to responses or short datagrams" 0 '^pass' -- $py drop
check "2000 garbage datagrams, still serving" 0 '^pass' -- $py garbage
check "TCP: a big answer whole, no EDNS needed" 0 '^pass' -- $py tcp
check "TCP: pipelined queries answered in order" 0 '^pass' -- $py tcp_pipeline
check "TCP: a query trickling in a byte at a time" 0 '^pass' -- $py tcp_trickle
check "TCP: an oversized frame closes the connection" 0 '^pass' -- $py tcp_oversize
check "TCP: a slow reader of 20000 pipelined big answers gets all, whole" 0 '^pass' -- $py tcp_slow_reader
if [ -n "$v6" ]; then
	check "IPv6: A, byte for byte, over ::1" 0 '^pass' -- python3 "$client" ::1 "$port" a
	check "IPv6: CNAME chain over ::1" 0 '^pass' -- python3 "$client" ::1 "$port" cname
	check "IPv6: TCP over ::1" 0 '^pass' -- python3 "$client" ::1 "$port" tcp
else
	ok "IPv6 over ::1 # SKIP no IPv6 loopback"
fi

check "port in use: a clear error, exit 1" 1 "cannot bind UDP 127.0.0.1:$port: " -- \
	"$dns" port="$port" addr=127.0.0.1
check "bad addr= is refused" 2 "addr=nowhere: nowhere is not an IP address" -- \
	"$dns" port="$port" addr=nowhere
check "--help lists dns's arguments" 0 'port=N' -- "$dns" --help

# ----------------------------------------------------------------- stop
stop "$pid"
status=$?
line=$(grep 'dns: stopping:' "$log")
[ "$status" -eq 0 ] && [ -n "$line" ] &&
	ok "SIGTERM: orderly stop, exit 0" || not_ok "SIGTERM: orderly stop, exit 0" "status $status" "$(tail -5 "$log")"
# Every check above sent at least one query of each kind.
printf '%s\n' "$line" | grep -Eq '[1-9][0-9]* nxdomain, [1-9][0-9]* refused, [1-9][0-9]* formerr, [1-9][0-9]* notimp, [0-9]+ badvers, [1-9][0-9]* truncated; dropped [1-9][0-9]* short, [1-9][0-9]* responses' &&
	ok "counters logged at shutdown" || not_ok "counters logged at shutdown" "$line"
grep -Eq 'dns: tcp: connections: [1-9][0-9]* admitted, .*; refused: 0 all busy, 0 all just arrived, 0 peer at its limit' "$log" &&
	grep -Eq 'dns: tcp: 1 closed for bad framing' "$log" &&
	ok "TCP counters logged at shutdown" || not_ok "TCP counters logged at shutdown" "$(grep 'dns: tcp' "$log")"

# A pool of one connection: a second one evicts the first, which is idle
# (answered, and past the pool's grace), and is served. The first asks
# once so that it is known to be admitted before the second arrives: a
# loaded machine may otherwise accept both in one turn of the loop, and
# then the first is still within its grace and the second is refused.
port2=$(free_port)
serve 'dns: serving' "$tmp/small.log" "$dns" port="$port2" addr=127.0.0.1 tcp_conns=1 tcp_idle=2s
check "tcp_conns=1: a newcomer evicts the idle first connection and is served" 0 '^pass' -- \
	python3 - "$port2" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"\4mail\7example\3com\0\0\1\0\1"
a = socket.create_connection(("127.0.0.1", port), timeout=3)
a.sendall(struct.pack(">H", len(q)) + q)
answer = a.recv(100)
time.sleep(0.3)
b = socket.create_connection(("127.0.0.1", port), timeout=3)
b.sendall(struct.pack(">H", len(q)) + q)
second = b.recv(100)
try:
    first = a.recv(100)
except OSError:
    first = b""
print("pass" if answer[2:4] == b"\0\7" and first == b"" and second[2:4] == b"\0\7"
      else "fail: %r %r %r" % (answer, first, second))
PY
check "tcp_idle=2s: an idle connection is closed" 0 '^closed after [2-4]\.' -- \
	python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t = time.time()
s.recv(1)
print("closed after %.1f s" % (time.time() - t))' "$port2"
stop "$pid"

# ------------------------------------------- slot exhaustion (connpool.h)
# 64 slots (the default), tcp_per_peer=64 so that only the pool's eviction
# is at work for clients that all come from 127.0.0.1: 100 connections
# trickling a byte of an unfinished query every second, then 300 that send
# nothing; each time 10 probe queries over TCP (each retried after a
# reset, within 5 s, short of the 10 s tcp_idle) must all be answered.
port3=$(free_port)
serve 'dns: serving' "$tmp/pool.log" "$dns" port="$port3" addr=127.0.0.1 tcp_per_peer=64
check "100 trickling connections, 64 slots: 10 of 10 TCP probes answered" 0 '^served 10 of 10' -- \
	$flood 127.0.0.1 "$port3" trickle 100 00300102030405060708090a0b0c0d0e0f probe 10 dns
check "300 silent connections, 64 slots: 10 of 10 TCP probes answered" 0 '^served 10 of 10' -- \
	$flood 127.0.0.1 "$port3" silent 300 probe 10 dns
stop "$pid"
grep -Eq 'dns: tcp: connections: .*ended: [0-9]+ idle, [0-9]+ slow request, [1-9][0-9]* pool full, idle, [1-9][0-9]* pool full, incomplete request' "$tmp/pool.log" &&
	ok "TCP eviction counters by reason logged at shutdown" ||
	not_ok "TCP eviction counters by reason logged at shutdown" "$(grep connections: "$tmp/pool.log")"
finish
