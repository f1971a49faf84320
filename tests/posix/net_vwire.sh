# vwire: Duet processes on one virtual Ethernet through vwire-hub, no
# privileges. Raw frames first, then lwIP (net_echo and net_client) over
# IPv4 and IPv6, garbage frames at a live stack, a SYN flood at httpd,
# and a hub restart.
. "$top_srcdir/tests/posix/lib.sh"
need python3

hub=$tmp/hub.sock
spawn "$tmp/hub.log" "$vwire_hub" "$hub"
hub_pid=$!
wait_for "$tmp/hub.log" 'listening on' || { not_ok "vwire-hub starts" "$(cat "$tmp/hub.log")"; finish; }
ok "vwire-hub starts"
check "a second hub on the same path is refused" 1 'another hub is running there' -- "$vwire_hub" "$hub"
check "a netif with no hub: clear error, exit 2" 2 'no vwire hub there .*start one with: vwire-hub' -- \
	"$net_raw" --net "net0=vwire:$tmp/nohub.sock"

# Raw frames: one process reflects, the other sends 200 and waits for each.
serve 'mode reflect' "$tmp/reflect.log" "$net_raw" --net "net0=vwire:$hub" mode=reflect
reflect_pid=$pid
check "200 raw frames there and back" 0 'all 200 reflections back' -- \
	"$net_raw" --net "net0=vwire:$hub,mac=02:00:00:00:00:01" mode=ping count=200
stop "$reflect_pid"
check "the reflector counted them" 0 'stats: rx 2[0-9][0-9] rx_errors 0 .* tx 2[0-9][0-9] ' -- \
	cat "$tmp/reflect.log"

# lwIP over the wire: an echo server and clients, each its own process.
srv_args="ip=10.77.8.2/24 ip6=fd00:77:8::2/64 port=7"
cli_args="ip=10.77.8.3/24 ip6=fd00:77:8::3/64"
serve 'ready' "$tmp/echo.log" "$net_echo" --net "net0=vwire:$hub" $srv_args
echo_pid=$pid
check "the echo runs on lwIP" 0 'lwip stack: tcp echo' -- cat "$tmp/echo.log"
check "TCP echo over IPv4, 1 MiB" 0 '1048576 of 1048576 bytes back, intact' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.2:7 size=1M
check "TCP echo over IPv6, 256 KiB" 0 '262144 of 262144 bytes back, intact' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args 'to=[fd00:77:8::2]:7' size=256k
check "UDP echo over IPv4" 0 'datagram echoed' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.2:7 mode=udp
check "UDP echo over IPv6" 0 'datagram echoed' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args 'to=[fd00:77:8::2]:7' mode=udp
check "connecting to a closed port is refused" 1 'connection failed: connection refused' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.2:9

# Garbage: truncated and malformed Ethernet, ARP, IPv4, IPv6, TCP and UDP
# headers, runts, an oversize datagram and random bytes, broadcast onto the
# wire from a plain socket. A raw sink counts what it must refuse; the
# echo must keep serving.
serve 'mode sink' "$tmp/sink.log" "$net_raw" --net "net0=vwire:$hub" mode=sink
sink_pid=$pid
python3 - "$hub" <<'EOF' >"$tmp/garbage.log" 2>&1
import os, random, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"")  # an abstract name, so the hub can answer
s.connect(sys.argv[1])
s.send(b"vwire-hello")
bcast, src = b"\xff" * 6, b"\x02\xee\xee\xee\xee\x01"
def eth(t, payload): return bcast + src + struct.pack("!H", t) + payload
ip4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                  bytes([10, 77, 8, 9]), bytes([10, 77, 8, 2]))
frames = [b"\x01\x02\x03", b"x" * 13,                      # runts (hub drops)
          eth(0x0806, b"\x00\x01\x08"),                     # ARP cut short
          eth(0x0800, b"\x45\x00"),                         # IPv4 cut short
          eth(0x0800, b"\x4f" + b"\x00" * 30),              # IHL past the end
          eth(0x0800, ip4),                                 # TCP header missing
          eth(0x0800, ip4[:9] + b"\x11" + ip4[10:] + b"\x00\x07"),  # UDP cut
          eth(0x0800, struct.pack("!BBH", 0x45, 0, 0xffff) + ip4[4:]),  # length lies
          eth(0x86dd, b"\x60\x00\x00\x00\x00\x40\x3a"),     # IPv6 cut short
          eth(0x86dd, b"\x60" + b"\x00" * 3 + b"\xff\xff\x2c\x40" + b"\x00" * 32),
          eth(0x8100, b"\x00"),                              # VLAN tag cut
          eth(0x0800, b"\x00" * 3000)]                      # oversize
rnd = random.Random(7)
for _ in range(500):
    t = rnd.choice([0x0800, 0x0806, 0x86dd, rnd.randrange(65536)])
    frames.append(eth(t, bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 120)))))
for f in frames:
    s.send(f)
    time.sleep(0.0005)
print("sent", len(frames))
EOF
check "garbage sent" 0 'sent 512' -- cat "$tmp/garbage.log"
check "the echo still serves after the garbage" 0 '65536 of 65536 bytes back, intact' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.2:7
stop "$sink_pid"
check "the oversize datagram is an rx error" 0 'stats: rx [0-9]+ rx_errors [1-9]' -- cat "$tmp/sink.log"
if kill -0 "$echo_pid" 2>/dev/null; then ok "the echo process is alive"; else
	not_ok "the echo process is alive" "$(cat "$tmp/echo.log")"; fi

# httpd on lwIP over the wire, fetched by another Duet process.
if [ -x "$httpd" ]; then
	serve 'serving' "$tmp/httpd.log" "$httpd" --net "net0=vwire:$hub,mac=02:00:00:00:00:44" ip=10.77.8.4/24 \
		ip6=fd00:77:8::4/64 addr=:: port=80 synthetic=4M
	httpd_pid=$pid
	check "GET / from httpd on lwIP over IPv4" 0 'HTTP/1.1 200 OK, body [1-9]' -- \
		"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.4:80 mode=http
	check "GET / from httpd on lwIP over IPv6" 0 'HTTP/1.1 200 OK, body [1-9]' -- \
		"$net_client" --net "net0=vwire:$hub" $cli_args 'to=[fd00:77:8::4]:80' mode=http
	check "GET a missing file: 404" 0 'HTTP/1.1 404' -- \
		"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.4:80 mode=http path=/nope
	check "GET 4 MiB" 0 'HTTP/1.1 200 OK, body 4194304 bytes' -- \
		"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.4:80 mode=http path=/4M
	# A half-open flood: 2000 SYNs to port 80 from 128 spoofed addresses
	# nobody answers for, so every connection stays in SYN_RCVD. httpd
	# must still answer a real client within 10 s, and not crash.
	python3 - "$hub" <<'EOF' >"$tmp/synflood.log" 2>&1
import random, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(b"")
s.connect(sys.argv[1])
s.send(b"vwire-hello")
def csum(b):
    if len(b) % 2: b += b"\0"
    c = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while c >> 16: c = (c & 0xffff) + (c >> 16)
    return ~c & 0xffff
dst_mac, dst = bytes.fromhex("020000000044"), bytes([10, 77, 8, 4])
rnd = random.Random(11)
for i in range(2000):
    host = 100 + i % 128
    src = bytes([10, 77, 8, host])
    tcp = struct.pack("!HHIIBBHHH", rnd.randrange(1024, 65536), 80,
                      rnd.randrange(1 << 32), 0, 5 << 4, 0x02, 8192, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(src + dst + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.send(dst_mac + bytes([2, 0xee, 0xee, 0xee, 0, host]) + b"\x08\x00" + ip + tcp)
    time.sleep(0.0002)
print("sent", i + 1, "SYNs")
EOF
	check "a flood of 2000 half-open SYNs sent" 0 'sent 2000 SYNs' -- cat "$tmp/synflood.log"
	check "GET / within 10 s right after the SYN flood" 0 'HTTP/1.1 200 OK, body [1-9]' -- \
		timeout 10 "$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.4:80 mode=http
	if kill -0 "$httpd_pid" 2>/dev/null; then ok "httpd is alive after the SYN flood"; else
		not_ok "httpd is alive after the SYN flood" "$(cat "$tmp/httpd.log")"; fi
	stop "$httpd_pid"
	check "httpd logged the requests" 0 '"GET /4M HTTP/1.1" 200 4194304' -- cat "$tmp/httpd.log"
fi

# The hub restarts: endpoints notice, reattach, and traffic flows again.
stop "$hub_pid"
check "the hub prints its counters" 0 'frames forwarded' -- cat "$tmp/hub.log"
if wait_for "$tmp/echo.log" 'vwire hub at .* went away'; then
	ok "the echo notices the hub is gone"
else
	not_ok "the echo notices the hub is gone" "$(cat "$tmp/echo.log")"
fi
serve 'listening on' "$tmp/hub2.log" "$vwire_hub" "$hub"
if wait_for "$tmp/echo.log" 'reattached to the vwire hub'; then
	ok "the echo reattaches to the new hub"
else
	not_ok "the echo reattaches to the new hub" "$(cat "$tmp/echo.log")"
fi
check "the echo's link goes down with the hub" 0 'net0: link down' -- cat "$tmp/echo.log"
check "the echo's link is up again after reattaching" 0 'net0: link up' -- cat "$tmp/echo.log"
check "TCP echo through the new hub" 0 'bytes back, intact' -- \
	"$net_client" --net "net0=vwire:$hub" $cli_args to=10.77.8.2:7
stop "$echo_pid"
status=$?
if [ "$status" -eq 0 ]; then ok "the echo stops in order"; else
	not_ok "the echo stops in order" "exit $status" "$(cat "$tmp/echo.log")"; fi
finish
