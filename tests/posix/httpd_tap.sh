# httpd on lwIP over a tap, inside a network namespace the test creates
# (nothing leaves the machine): the same server as on the socket stack, now
# with lwIP's small send buffer, so partial sends, `writable` and paused
# reading all happen for real. Needs root.
. "$top_srcdir/tests/posix/lib.sh"
site=$top_srcdir/apps/httpd/site
client=$top_srcdir/tests/posix/httpd_client.py

[ "$(id -u)" -eq 0 ] || skip_all "needs root (a tap in a network namespace)"
need ip curl python3
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
"$httpd" --help 2>&1 | grep -q 'NAME=tap:' || skip_all "this build has no tap netif"

ns=duet-httpd-$$
on_exit "ip netns del $ns 2>/dev/null"
if ! { ip netns add "$ns" && ip -n "$ns" link set lo up &&
	ip netns exec "$ns" ip tuntap add dev htap0 mode tap &&
	ip -n "$ns" addr add 10.77.19.1/24 dev htap0 &&
	ip -n "$ns" link set htap0 up; } >"$tmp/ns.log" 2>&1; then
	skip_all "cannot set up a namespace with a tap: $(cat "$tmp/ns.log")"
fi

serve serving "$tmp/httpd.log" ip netns exec "$ns" "$httpd" --net net0=tap:htap0 \
	ip=10.77.19.2/24 port=80 request_timeout=3s idle_timeout=60s synthetic=1k,64k
grep -q 'serving .* on http://0.0.0.0:80/ (lwip stack)' "$log" ||
	bail "httpd is not on lwIP" "$log"
ok "starts on lwIP, listening on the any-address"

base=http://10.77.19.2
# Plain words, not functions: check runs its command through timeout(1).
in_ns="ip netns exec $ns"
curl="$in_ns curl -sS --max-time 10"
py="$in_ns python3 $client 10.77.19.2 80"

for f in index.html style.css; do
	if $curl -o "$tmp/got" "$base/$f" && cmp -s "$tmp/got" "$site/$f"; then
		ok "/$f over lwIP is byte-identical to the site file"
	else
		not_ok "/$f over lwIP is byte-identical to the site file"
	fi
done
check "a 64 KiB file through lwIP's send buffer" 0 '^200 65536$' -- \
	$curl -o /dev/null -w '%{http_code} %{size_download}' "$base/64k"
etag=$($curl -D - -o /dev/null "$base/style.css" | tr -d '\r' | sed -n 's/^ETag: //p')
check "If-None-Match gives 304" 0 '^304$' -- \
	$curl -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$base/style.css"
check "keep-alive: curl reuses the connection" 0 'Re-using existing connection' -- \
	$in_ns curl -sv --max-time 10 -o /dev/null -o /dev/null "$base/robots.txt" "$base/style.css"
check "pipelining: in order, HEAD without body" 0 '^codes 200 404 200 200 200$' -- \
	$py pipeline
check "deep pipeline: 200 requests in flight (64 KiB every other)" 0 \
	'^deep 200/200 in order: True$' -- $py deep 200

spawn "$tmp/slow" $py slow
slow=$!
sleep 1
check "served while a slow client trickles" 0 '^200$' -- $curl -o /dev/null -w '%{http_code}' "$base/"
wait "$slow"
grep -Eq "closed after [2-5]\.[0-9] s: b'HTTP/1.1 408" "$tmp/slow" &&
	ok "slow request cut off with 408" || not_ok "slow request cut off with 408" "$(cat "$tmp/slow")"

# httpd runs with idle_timeout=60s: on a starved machine a connect can take
# its client's whole 30 s, and the connections opened before it must still
# be inside their idle time when they are counted.
spawn "$tmp/flood" $py flood 200 3
idle=$!
wait_for "$tmp/flood" '^open'
check "200 while 200 idle connections are open" 0 '^200$' -- $curl -o /dev/null -w '%{http_code}' "$base/"
wait "$idle"
grep -q '^alive 200$' "$tmp/flood" && ok "the idle connections stay open" ||
	not_ok "the idle connections stay open" "$(cat "$tmp/flood")"

# A burst: 64 connections each pipelining 20 requests for 64 KiB. lwIP
# writes windows to them back to back while the host queues its ACKs on
# the tap, whose queue is made short here (256 frames). A driver that reads
# the tap only between bursts lets the host drop ACKs there, and each lost
# ACK at the end of a response costs a retransmission timeout; the tap
# driver drains the tap as it writes, so the host drops (next to) nothing.
ip -n "$ns" link set htap0 txqueuelen 256
drops0=$(ip -n "$ns" -s link show htap0 | awk '/TX:/ { getline; print $4 }')
check "a burst of 1280 responses of 64 KiB on 64 connections" 0 \
	'^burst 1280/1280 responses' -- $py burst 64 20
drops=$(($(ip -n "$ns" -s link show htap0 | awk '/TX:/ { getline; print $4 }') - drops0))
# Thousands with a driver that does not drain; 0 or 1 with this one.
[ "$drops" -lt 50 ] && ok "the host dropped $drops frames on their way to Duet" ||
	not_ok "the host dropped $drops frames on their way to Duet (over 50)"

stop "$pid"
status=$?
[ "$status" -eq 0 ] && grep -q 'stopping: [0-9]* requests served' "$log" &&
	ok "SIGTERM: orderly stop, exit 0" || not_ok "SIGTERM: orderly stop, exit 0" "status $status" "$(tail -5 "$log")"
finish
