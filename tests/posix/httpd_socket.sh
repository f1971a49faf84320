# httpd on the POSIX socket stack (the host's TCP/IP, loopback only): pages
# byte for byte, headers, conditional requests, keep-alive, pipelining,
# refusals, a slow client, a flood of idle connections, orderly stop.
. "$top_srcdir/tests/posix/lib.sh"
site=$top_srcdir/apps/httpd/site

need curl python3

port=$(free_port)
base=http://127.0.0.1:$port
# The main server runs to the end, the others (pid, log) one at a time.
serve serving "$tmp/httpd.log" "$httpd" port="$port" request_timeout=3s idle_timeout=20s \
	synthetic=1k,64k max_per_peer=1024
main_pid=$pid main_log=$log
grep -q "serving .* on http://127.0.0.1:$port/ (socket stack)" "$main_log" ||
	bail "httpd is not on 127.0.0.1 with the socket stack" "$main_log"
ok "starts on the socket stack, listening on 127.0.0.1"

# Plain words, not functions: check runs its command through timeout(1).
curl="curl -sS --max-time 10"

# ------------------------------------------------------------- contents
for f in index.html style.css robots.txt favicon.svg; do
	if $curl -o "$tmp/got" "$base/$f" && cmp -s "$tmp/got" "$site/$f"; then
		ok "/$f is byte-identical to the site file"
	else
		not_ok "/$f is byte-identical to the site file"
	fi
done
$curl -o "$tmp/got" "$base/" && cmp -s "$tmp/got" "$site/index.html" &&
	ok "/ serves index.html" || not_ok "/ serves index.html"

# --------------------------------------------------------------- headers
$curl -D "$tmp/h" -o /dev/null "$base/style.css"
hdr() { tr -d '\r' <"$tmp/h" | sed -n "s/^$1: //Ip" | head -n 1; }
[ "$(hdr content-type)" = "text/css; charset=utf-8" ] &&
	ok "Content-Type by extension" || not_ok "Content-Type by extension" "$(cat "$tmp/h")"
[ "$(hdr content-length)" = "$(wc -c <"$site/style.css" | tr -d ' ')" ] &&
	ok "Content-Length is the file size" || not_ok "Content-Length is the file size" "$(cat "$tmp/h")"
hdr date | grep -Eq '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' &&
	ok "Date is an IMF-fixdate" || not_ok "Date is an IMF-fixdate" "$(cat "$tmp/h")"
etag=$(hdr etag)
printf '%s\n' "$etag" | grep -Eq '^"[0-9a-f]{16}"$' && ok "strong ETag" ||
	not_ok "strong ETag" "$(cat "$tmp/h")"

code=$($curl -o "$tmp/body" -w '%{http_code}' -H "If-None-Match: $etag" "$base/style.css")
[ "$code" = 304 ] && [ ! -s "$tmp/body" ] && ok "If-None-Match with the ETag gives 304, no body" ||
	not_ok "If-None-Match with the ETag gives 304, no body" "code $code"
code=$($curl -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000"' "$base/style.css")
[ "$code" = 200 ] && ok "another ETag gives 200" || not_ok "another ETag gives 200" "code $code"

out=$($curl -I -D "$tmp/h" -o /dev/null -w '%{http_code} %{size_download}' "$base/index.html" 2>&1)
[ "$out" = "200 0" ] &&
	[ "$(hdr content-length)" = "$(wc -c <"$site/index.html" | tr -d ' ')" ] &&
	ok "HEAD: 200, the GET's Content-Length, no body" ||
	not_ok "HEAD: 200, the GET's Content-Length, no body" "$out" "$(cat "$tmp/h")"

# ---------------------------------------------------------------- ranges
idx=$site/index.html
size=$(wc -c <"$idx" | tr -d ' ')
code=$($curl -D "$tmp/h" -o "$tmp/got" -w '%{http_code}' -r 0-99 "$base/index.html")
head -c 100 "$idx" >"$tmp/want"
[ "$code" = 206 ] && cmp -s "$tmp/got" "$tmp/want" && [ "$(hdr content-range)" = "bytes 0-99/$size" ] &&
	ok "Range 0-99: 206, the first 100 bytes" || not_ok "Range 0-99: 206, the first 100 bytes" "code $code" "$(cat "$tmp/h")"
code=$($curl -o "$tmp/got" -w '%{http_code}' -r -10 "$base/index.html")
tail -c 10 "$idx" >"$tmp/want"
[ "$code" = 206 ] && cmp -s "$tmp/got" "$tmp/want" &&
	ok "Range -10: 206, the last 10 bytes" || not_ok "Range -10: 206, the last 10 bytes" "code $code"
code=$($curl -D "$tmp/h" -o /dev/null -w '%{http_code}' -r 99999999- "$base/index.html")
[ "$code" = 416 ] && [ "$(hdr content-range)" = "bytes */$size" ] &&
	ok "Range past the end: 416, Content-Range */size" || not_ok "Range past the end: 416, Content-Range */size" "code $code" "$(cat "$tmp/h")"
code=$($curl -D "$tmp/h" -o "$tmp/got" -w '%{http_code}' -r 0-1,5-6 "$base/index.html")
[ "$code" = 200 ] && cmp -s "$tmp/got" "$idx" && [ "$(hdr accept-ranges)" = bytes ] &&
	ok "multi-range: ignored, 200 with the whole file" || not_ok "multi-range: ignored, 200 with the whole file" "code $code"

check "unknown path: 404" 0 '^404$' -- $curl -o /dev/null -w '%{http_code}' "$base/nope.html"
check "POST: 405 with Allow" 0 '^Allow: GET, HEAD' -- $curl -i -X POST -d x=1 "$base/"
check "synthetic 1k file" 0 '^200 1024$' -- $curl -o /dev/null -w '%{http_code} %{size_download}' "$base/1k"
check "synthetic 64k file" 0 '^200 65536$' -- $curl -o /dev/null -w '%{http_code} %{size_download}' "$base/64k"

# ---------------------------------------------------- connection reuse
check "keep-alive: curl reuses the connection" 0 'Re-using existing connection' -- \
	curl -sv --max-time 10 -o /dev/null -o /dev/null "$base/robots.txt" "$base/style.css"

py="python3 $top_srcdir/tests/posix/httpd_client.py 127.0.0.1 $port"

check "pipelining: five requests in one write, in order, HEAD without body" 0 \
	'^codes 200 404 200 200 200$' -- $py pipeline
check "deep pipeline: 400 requests in flight, all answered in order" 0 \
	'^deep 400/400 in order: True$' -- $py deep 400
check "HTTP/1.0 without Host: 200 and close" 0 '^HTTP/1.1 200 OK$' -- $py raw 'GET / HTTP/1.0\r\n\r\n'
check "HTTP/1.1 without Host: 400" 0 '^HTTP/1.1 400 Bad Request$' -- $py raw 'GET / HTTP/1.1\r\n\r\n'
check "malformed request line: 400" 0 '^HTTP/1.1 400 Bad Request$' -- $py raw 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n'
check "HTTP/2.0 request line: 505" 0 '^HTTP/1.1 505 ' -- $py raw 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'
check "chunked body: parsed, then 200" 0 '^HTTP/1.1 200 ' -- \
	$py raw 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
check "unknown transfer coding: 501" 0 '^HTTP/1.1 501 ' -- \
	$py raw 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'
check "invalid Host: 400" 0 '^HTTP/1.1 400 ' -- $py raw 'GET / HTTP/1.1\r\nHost: local/host\r\n\r\n'
check "body over the limit: 413" 0 '^HTTP/1.1 413 ' -- \
	$py raw 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n'
big=$(head -c 10000 /dev/zero | tr '\0' 'a')
check "oversize header: 431" 0 '^431$' -- $curl -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/"
check "oversize request line: 414" 0 '^414$' -- $curl -o /dev/null -w '%{http_code}' "$base/$big"

# ------------------------------------------------- hostile clients
spawn "$tmp/slow" $py slow
slow=$!
sleep 1
check "served while a slow client trickles" 0 '^200$' -- $curl -o /dev/null -w '%{http_code}' "$base/"
wait "$slow"
grep -Eq "closed after [2-5]\.[0-9] s: b'HTTP/1.1 408" "$tmp/slow" &&
	ok "slow request cut off after request_timeout with 408" ||
	not_ok "slow request cut off after request_timeout with 408" "$(cat "$tmp/slow")"

spawn "$tmp/flood" $py flood 500 4
idle=$!
wait_for "$tmp/flood" '^open'
check "200 while 500 idle connections are open" 0 '^200$' -- $curl -o /dev/null -w '%{http_code}' "$base/"
wait "$idle"
grep -q '^alive 500$' "$tmp/flood" && ok "the idle connections stay open within max_conns" ||
	not_ok "the idle connections stay open within max_conns" "$(cat "$tmp/flood")"

# A second server with room for 5 connections: 12 silent ones leave 5 (the
# newest: each newcomer evicts the oldest idle one).
port2=$(free_port)
serve serving "$tmp/small.log" "$httpd" port="$port2" max_conns=5 max_per_peer=5
check "max_conns=5: only 5 of 12 connections stay" 0 '^alive 5$' -- \
	python3 "$top_srcdir/tests/posix/httpd_client.py" 127.0.0.1 "$port2" flood 12 1
stop "$pid"

# ------------------------------------------- slot exhaustion (connpool.h)
# 300 hostile connections against 100 slots, from the probe's own address
# (max_per_peer=100, so only the pool's eviction is at work): a Slowloris
# trickle, then a silent flood. Each time 10 probe GETs, one after another
# (each retried after a reset, as clients do), must all be served, each
# within 5 s: generous for a GET, short of the 10 s the flood's
# connections would hold their slots by timeouts alone.
port3=$(free_port)
serve serving "$tmp/pool.log" "$httpd" port="$port3" max_conns=100 max_per_peer=100 access_log=off
slowloris=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: %s' "$(head -c 200 /dev/zero | tr '\0' a)" |
	od -An -v -tx1 | tr -d ' \n')
check "Slowloris (300 trickling, 100 slots): 10 of 10 probes served" 0 '^served 10 of 10' -- \
	$flood 127.0.0.1 "$port3" trickle 300 "$slowloris" probe 10 http
check "300 silent connections, 100 slots: 10 of 10 probes served" 0 '^served 10 of 10' -- \
	$flood 127.0.0.1 "$port3" silent 300 probe 10 http
stop "$pid"
grep -Eq 'httpd: connections: .*ended: [0-9]+ idle, [0-9]+ slow request, [1-9][0-9]* pool full, idle, [1-9][0-9]* pool full, incomplete request' "$tmp/pool.log" &&
	ok "eviction counters by reason logged at shutdown" ||
	not_ok "eviction counters by reason logged at shutdown" "$(grep connections: "$tmp/pool.log")"

# The per-address share: one address floods, another is served with no
# eviction of its own connections needed.
serve serving "$tmp/peer.log" "$httpd" port="$port3" max_conns=100 max_per_peer=25 access_log=off
check "one address over its share (25 of 100): another address served" 0 '^served 5 of 5' -- \
	$flood 127.0.0.1 "$port3" silent 200 probe 5 http 127.0.0.2
stop "$pid"
grep -Eq 'httpd: connections: .*[1-9][0-9]* peer at its limit; refused' "$tmp/peer.log" &&
	ok "the share is enforced, counted" || not_ok "the share is enforced, counted" "$(grep connections: "$tmp/peer.log")"

# ------------------------------------------------ memory under a flood
# 10,000 keep-alive connections (fewer if the fd limit says so), each after
# one GET: per-connection memory is allocated while a request or response
# is in flight only, so the peak stays small. After, a closed connection's
# record is freed and the platform gives the heap's free pages back once
# the loop is idle (platform-posix/trim.c): anonymous memory comes back
# within 20% of idle (what a first request left is idle; the binary's and
# libraries' pages are the page cache's, not counted).
nmax=10000
hard=$(ulimit -H -n)
[ "$hard" = unlimited ] || [ "$hard" -ge $((nmax + 100)) ] || nmax=$((hard - 100))
port4=$(free_port)
serve serving "$tmp/rss.log" with_nofile $((nmax + 100)) \
	"$httpd" port="$port4" max_per_peer=$nmax idle_timeout=60s access_log=off
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$pid/status"; }
$flood 127.0.0.1 "$port4" keepalive 1 0 >/dev/null 2>&1
sleep 0.5
idle=$(kb VmRSS)
idle_anon=$(kb RssAnon)
spawn "$tmp/ka" $flood 127.0.0.1 "$port4" keepalive "$nmax" 2
fl=$!
for _ in $(seq 600); do grep -q '^held' "$tmp/ka" && break; sleep 0.1; done
peak=$(kb VmHWM)
wait "$fl"
sleep 1
after=$(kb RssAnon)
stop "$pid"
per=$(((peak - idle) * 1024 / nmax))
cap=4096
[ -z "${DUET_SANITIZERS:-}" ] || cap=16384
if grep -q "^held $nmax\$" "$tmp/ka" && [ "$per" -lt "$cap" ]; then
	ok "$nmax keep-alive connections: peak $peak kB from $idle kB idle, $per bytes each (under $cap)"
else
	not_ok "$nmax keep-alive connections under $cap bytes each" "$(cat "$tmp/ka")" \
		"idle $idle kB, peak $peak kB, $per bytes each"
fi
# ASan's quarantine holds freed memory on purpose: only a plain build can
# show it going back.
if [ -n "${DUET_SANITIZERS:-}" ]; then
	ok "memory returns after the flood # SKIP sanitizers keep freed memory"
elif [ $((after * 5)) -le $((idle_anon * 6)) ]; then
	ok "memory returns after the flood: $after kB anonymous (idle $idle_anon kB)"
else
	not_ok "memory returns after the flood, within 20% of idle" \
		"anonymous: idle $idle_anon kB, after $after kB; peak (all) $peak kB"
fi

check "port in use: a clear error, exit 1" 1 "cannot listen on TCP 127.0.0.1:$port: " -- \
	"$httpd" port="$port"

grep -Eq 'httpd: 127\.0\.0\.1:[0-9]+ "GET /style\.css HTTP/1\.1" 200 [0-9]+$' "$main_log" &&
	ok "access log line per request" || not_ok "access log line per request"

# ----------------------------------------------------------------- stop
stop "$main_pid"
status=$?
[ "$status" -eq 0 ] && grep -q 'stopping: [0-9]* requests served' "$main_log" &&
	ok "SIGTERM: orderly stop, exit 0" || not_ok "SIGTERM: orderly stop, exit 0" "status $status" "$(tail -5 "$main_log")"

# ---------------------------------------------------------- boot args
check "bad synthetic= is refused" 2 "synthetic=1q" -- "$httpd" port="$port" synthetic=1q
check "bad addr= is refused" 2 "addr=nowhere: not an IP address" -- "$httpd" port="$port" addr=nowhere
check "net= naming no netif is refused" 2 "net=net7: no such network stack \\(this image has: lwip, socket\\)" -- "$httpd" port="$port" net=net7
check "--net socket with net= given too is refused" 2 "'net' given twice" -- "$httpd" --net socket net=socket port="$port"
check "--help lists httpd's arguments" 0 'idle_timeout=T' -- "$httpd" --help
finish
