# The socket stack: net_echo on the host's TCP/IP, answered by socat over
# loopback, IPv4 and IPv6; backpressure; the --net command line.
. "$top_srcdir/tests/posix/lib.sh"
need socat ss awk

port=$(free_port)
spawn "$tmp/echo.log" "$net_echo" port="$port"
echo_pid=$!
if ! wait_for "$tmp/echo.log" 'ready'; then
	not_ok "net_echo starts on the socket stack" "$(cat "$tmp/echo.log")"
	finish
fi
ok "net_echo starts on the socket stack"
check "the default stack is the socket stack" 0 'socket stack: tcp echo on \[::\]:' \
	-- cat "$tmp/echo.log"

check "TCP echo over IPv4" 0 '^hello v4$' -- \
	sh -c "printf 'hello v4\n' | socat -t5 - TCP4:127.0.0.1:$port"
check "TCP echo over IPv6" 0 '^hello v6$' -- \
	sh -c "printf 'hello v6\n' | socat -t5 - TCP6:[::1]:$port"
check "UDP echo over IPv4" 0 '^dgram v4$' -- \
	sh -c "printf 'dgram v4\n' | socat -T2 - UDP4:127.0.0.1:$port"
check "UDP echo over IPv6" 0 '^dgram v6$' -- \
	sh -c "printf 'dgram v6\n' | socat -T2 - UDP6:[::1]:$port"

# 8 MiB both ways while the client stalls reading for 2 s: the echo's send
# queue fills, it pauses receiving and resumes on writable; nothing may be
# lost or reordered.
head -c 8388608 /dev/urandom >"$tmp/big"
timeout 60 socat -t30 -b65536 - "TCP4:127.0.0.1:$port" <"$tmp/big" 2>&1 |
	{ sleep 2; cat; } >"$tmp/big.out"
if cmp -s "$tmp/big" "$tmp/big.out"; then
	ok "8 MiB echoed intact"
else
	not_ok "8 MiB echoed intact" "got $(wc -c <"$tmp/big.out") bytes"
fi
if wait_for "$tmp/echo.log" 'received 8388608 sent 8388608 .* writable [1-9]'; then
	ok "the echo was held back by its send queue and resumed on writable"
else
	not_ok "the echo was held back by its send queue and resumed on writable" \
		"$(cat "$tmp/echo.log")"
fi

# Many short connections, then SIGTERM with one still open.
fails=0
for i in $(seq 50); do
	out=$(printf "c$i" | timeout 5 socat -t5 - "TCP4:127.0.0.1:$port")
	[ "$out" = "c$i" ] || fails=$((fails + 1))
done
if [ "$fails" -eq 0 ]; then ok "50 connections in a row"; else not_ok "50 connections in a row" "$fails failed"; fi
spawn "$tmp/idle.log" socat -u "TCP6:[::1]:$port" /dev/null
idle=$!
for _ in $(seq 100); do
	[ "$(grep -c 'connection from \[::1\]' "$tmp/echo.log")" -ge 2 ] && break
	sleep 0.1
done
stop "$echo_pid"
status=$?
kill "$idle" 2>/dev/null
if [ "$status" -eq 0 ] && grep -q 'SIGTERM: shutting down' "$tmp/echo.log" &&
	grep -q 'closed at shutdown' "$tmp/echo.log"; then
	ok "SIGTERM with a connection open: orderly exit"
else
	not_ok "SIGTERM with a connection open: orderly exit" "exit $status" "$(cat "$tmp/echo.log")"
fi

# Backpressure: a 32 MiB blast to a reader that stalls 2 s. The stack's
# queue is bounded (256 KiB, on top of the kernel's socket buffer): sends
# stop short, writable resumes them, and every line arrives in order.
port=$(free_port)
serve 'ready' "$tmp/blast.log" "$net_echo" --net socket port="$port" blast=32M
blast_pid=$pid
timeout 60 socat -u -b4096 "TCP4:127.0.0.1:$port" - | { sleep 2; cat; } >"$tmp/blast.out"
bad=$(awk -v want=2097152 '
	{ if (sprintf("%015x", NR - 1) != $0) bad++ }
	END { if (NR != want) bad += want - NR; print bad + 0 }' "$tmp/blast.out")
if [ "$bad" -eq 0 ]; then
	ok "32 MiB to a stalled reader arrive whole and in order"
else
	not_ok "32 MiB to a stalled reader arrive whole and in order" "$bad bad or missing lines"
fi
wait_for "$tmp/blast.log" 'connection closed' >/dev/null
line=$(grep 'connection closed' "$tmp/blast.log")
backlog=$(printf '%s\n' "$line" | sed -n 's/.*max_backlog \([0-9]*\).*/\1/p')
writable=$(printf '%s\n' "$line" | sed -n 's/.*writable \([0-9]*\).*/\1/p')
if [ "${backlog:-0}" -gt 0 ] && [ "$backlog" -le 262144 ] && [ "${writable:-0}" -gt 0 ]; then
	ok "the send queue filled to its bound and drained ($backlog bytes, $writable writable calls)"
else
	not_ok "the send queue filled to its bound and drained" "$line"
fi
check "--net socket names the socket stack" 0 '' -- grep -q 'socket stack: tcp echo' "$tmp/blast.log"
stop "$blast_pid"

# The port is taken: the app's start fails with the socket's error.
serve 'ready' "$tmp/hold.log" "$net_echo" port="$port"
hold=$pid
check "a port in use fails the start" 1 'address in use' -- "$net_echo" port="$port"
stop "$hold"

# httpd with no --net serves on the socket stack (what `./duet run httpd`
# does), answered by curl.
if [ -x "$httpd" ] && command -v curl >/dev/null; then
	port=$(free_port)
	serve 'serving' "$tmp/httpd.log" "$httpd" port="$port"
	httpd_pid=$pid
	check "httpd with no --net is on the socket stack" 0 '\(socket stack\)' -- cat "$tmp/httpd.log"
	check "curl httpd on the socket stack" 0 '^200 [1-9]' -- \
		curl -sS -m 10 -o /dev/null -w '%{http_code} %{size_download}\n' "http://127.0.0.1:$port/"
	stop "$httpd_pid"
fi

# The command line.
check "--net with an unknown driver" 2 "unknown driver 'eth'" -- "$net_echo" --net net0=eth:x
check "--net without NAME=" 2 'expected socket or NAME=DRIVER:ARG' -- "$net_echo" --net tap0
check "--net without a driver" 2 "no driver 'tap0'" -- "$net_echo" --net net0=tap0
check "--net with no value" 2 '--net needs socket or NAME=DRIVER:ARG' -- "$net_echo" --net
check "--net with a bad option" 2 "unknown option 'speed=10'" -- \
	"$net_echo" --net net0=vwire:/x,speed=10
check "--net with a bad mac" 2 "bad mac '02:00:00:00:00'" -- \
	"$net_echo" --net net0=vwire:/x,mac=02:00:00:00:00
check "--help describes --net" 0 'NAME=vwire:PATH' -- "$net_echo" --help
finish
