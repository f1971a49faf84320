# tap: a Duet process on a tap inside a network namespace the test
# creates (nothing leaves the machine), reached from the namespace side
# by ping, socat and curl over IPv4 and IPv6. Needs root.
. "$top_srcdir/tests/posix/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	# Without root a tap cannot be attached: that must say so, exit 2.
	check "tap without privileges: clear error" 2 'tap needs root or CAP_NET_ADMIN' -- \
		"$net_raw" --net net0=tap:duettap0
	echo "# SKIP the namespace tests: they need root"
	finish
fi
need ip ping socat curl python3 setpriv
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"

check "tap without privileges: clear error, exit 2" 2 'tap needs root or CAP_NET_ADMIN' -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$net_raw" --net net0=tap:duettap0
check "tap with a too long name" 2 'expected an interface name of 1 to 15' -- \
	"$net_raw" --net net0=tap:a_name_far_too_long
check "tap refuses an mtu option" 2 'the MTU is the tap' -- \
	"$net_raw" --net net0=tap:duettap0,mtu=9000

ns=duet-tap-$$
on_exit "ip netns del $ns"
in_ns="ip netns exec $ns"
if ! { ip netns add "$ns" && ip -n "$ns" link set lo up &&
	$in_ns ip tuntap add dev dtap0 mode tap &&
	ip -n "$ns" addr add 10.77.9.1/24 dev dtap0 &&
	ip -n "$ns" addr add fd00:77:9::1/64 dev dtap0 nodad &&
	ip -n "$ns" link set dtap0 up; } >"$tmp/ns.log" 2>&1; then
	skip_all "cannot set up a namespace with a tap: $(cat "$tmp/ns.log")"
fi

check "a tap that does not exist is created, with a warning" 124 'there was no tap dnew0 here' -- \
	$in_ns timeout 1 "$net_raw" --net net0=tap:dnew0

# Raw frames first: net_raw answers ARP and ICMP echo by hand.
serve 'answering for' "$tmp/raw.log" $in_ns "$net_raw" --net net0=tap:dtap0,mac=02:77:09:00:00:02 ip=10.77.9.2
raw_pid=$pid
check "ping a raw netif on the tap" 0 ' 0% packet loss' -- $in_ns ping -c 3 -i 0.2 -W 2 10.77.9.2
check "the host learnt our MAC" 0 '02:77:09:00:00:02' -- ip -n "$ns" neigh show 10.77.9.2
stop "$raw_pid"
check "the tap's frames were counted" 0 'stats: rx [1-9][0-9]* rx_errors 0 .* tx [1-9]' -- cat "$tmp/raw.log"
ip -n "$ns" neigh flush dev dtap0

# lwIP: the echo server at 10.77.9.2 and fd00:77:9::2.
serve 'fd00:77:9::2/64 ready' "$tmp/echo.log" $in_ns "$net_echo" --net net0=tap:dtap0 \
	ip=10.77.9.2/24 ip6=fd00:77:9::2/64 port=7
echo_pid=$pid
check "the echo runs on lwIP over the tap" 0 'lwip stack: tcp echo' -- cat "$tmp/echo.log"
check "ping lwIP over IPv4" 0 ' 0% packet loss' -- $in_ns ping -c 3 -i 0.2 -W 2 10.77.9.2
check "ping lwIP over IPv6" 0 ' 0% packet loss' -- $in_ns ping -6 -c 3 -i 0.2 -W 2 fd00:77:9::2
check "TCP echo over IPv4" 0 '^tap v4$' -- \
	$in_ns sh -c "printf 'tap v4\n' | socat -t5 - TCP4:10.77.9.2:7"
check "TCP echo over IPv6" 0 '^tap v6$' -- \
	$in_ns sh -c "printf 'tap v6\n' | socat -t5 - TCP6:[fd00:77:9::2]:7"
check "UDP echo over IPv4" 0 '^udp v4$' -- \
	$in_ns sh -c "printf 'udp v4\n' | socat -T2 - UDP4:10.77.9.2:7"
check "UDP echo over IPv6" 0 '^udp v6$' -- \
	$in_ns sh -c "printf 'udp v6\n' | socat -T2 - UDP6:[fd00:77:9::2]:7"
head -c 2097152 /dev/urandom >"$tmp/big"
$in_ns timeout 60 socat -t30 - TCP4:10.77.9.2:7 <"$tmp/big" >"$tmp/big.out" 2>&1
if cmp -s "$tmp/big" "$tmp/big.out"; then ok "2 MiB echoed intact over the tap"; else
	not_ok "2 MiB echoed intact over the tap" "got $(wc -c <"$tmp/big.out") bytes"; fi

# Garbage from the host side of the tap: truncated headers of every layer,
# then random frames. lwIP must drop them and keep serving.
$in_ns python3 - <<'EOF' >"$tmp/garbage.log" 2>&1
import random, socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("dtap0", 0))
dst, src = b"\xff" * 6, b"\x02\xee\xee\xee\xee\x01"
def eth(t, payload): return dst + src + struct.pack("!H", t) + payload
ip4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                  bytes([10, 77, 9, 1]), bytes([10, 77, 9, 2]))
frames = [eth(0x0806, b"\x00\x01"), eth(0x0800, b"\x45"), eth(0x0800, b"\x4f" + b"\x00" * 40),
          eth(0x0800, ip4), eth(0x0800, ip4[:9] + b"\x11" + ip4[10:]),
          eth(0x0800, struct.pack("!BBH", 0x45, 0, 0xffff) + ip4[4:]),
          eth(0x86dd, b"\x60\x00"), eth(0x86dd, b"\x60" + b"\x00" * 3 + b"\xff\xff\x3a\x40" + b"\x00" * 32)]
rnd = random.Random(9)
for _ in range(500):
    t = rnd.choice([0x0800, 0x0806, 0x86dd])
    frames.append(eth(t, bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))))
for f in frames:
    s.send(f)
print("sent", len(frames))
EOF
check "garbage sent through the tap" 0 'sent 508' -- cat "$tmp/garbage.log"
check "TCP echo after the garbage" 0 '^still here$' -- \
	$in_ns sh -c "printf 'still here\n' | socat -t5 - TCP4:10.77.9.2:7"
stop "$echo_pid"
status=$?
if [ "$status" -eq 0 ]; then ok "the echo survived and stops in order"; else
	not_ok "the echo survived and stops in order" "exit $status" "$(cat "$tmp/echo.log")"; fi

# Bulk at the tap's limit: the largest MTU (DUET_ETH_MTU_MAX), 64 KiB
# segments both ways, checksums offloaded through the vnet header. 16 MiB
# must arrive without one retransmission timeout (lwIP's count, logged
# when the stack stops): a stall there is what made 64 KiB responses slow.
ip -n "$ns" link set dtap0 mtu 65517
serve 'tcp echo' "$tmp/blast.log" $in_ns "$net_echo" --net net0=tap:dtap0 \
	ip=10.77.9.2/24 port=7 blast=16777216
blast_pid=$pid
spawn "$tmp/sniff.log" $in_ns python3 "$top_srcdir/tests/posix/tap_csum_sniff.py" \
	dtap0 10.77.9.2 50
sniff_pid=$!
sleep 0.5
$in_ns timeout 60 socat -u TCP4:10.77.9.2:7 - >"$tmp/blast.out" 2>"$tmp/blast.err"
wait "$sniff_pid"
check "lwIP's TCP checksums carry the pseudo-header's sum, for the host" 0 \
	'segments 50 bad 0' -- cat "$tmp/sniff.log"
got=$(wc -c <"$tmp/blast.out")
if [ "$got" -eq 16777216 ] && [ "$(tail -c 16 "$tmp/blast.out")" = "0000000000fffff" ]; then
	ok "16 MiB from lwIP over the tap at MTU 65517"
else
	not_ok "16 MiB from lwIP over the tap at MTU 65517" "got $got bytes" "$(cat "$tmp/blast.err")"
fi
stop "$blast_pid"
check "16 MiB without a retransmission timeout" 0 'net0: 0 retransmission timeouts' -- \
	cat "$tmp/blast.log"

# httpd on lwIP over the tap, fetched by curl, IPv4 and IPv6.
if [ -x "$httpd" ]; then
	serve 'fd00:77:9::2/64 ready' "$tmp/httpd.log" $in_ns "$httpd" --net net0=tap:dtap0 \
		ip=10.77.9.2/24 ip6=fd00:77:9::2/64 addr=:: port=80
	httpd_pid=$pid
	check "curl httpd on lwIP over IPv4" 0 '^200 [1-9]' -- \
		$in_ns curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}\n' http://10.77.9.2/
	check "curl httpd on lwIP over IPv6" 0 '^200 [1-9]' -- \
		$in_ns curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}\n' 'http://[fd00:77:9::2]/'
	check "ping httpd's stack" 0 ' 0% packet loss' -- $in_ns ping -c 2 -i 0.2 -W 2 10.77.9.2
	stop "$httpd_pid"
fi
finish
