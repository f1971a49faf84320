# Record and replay (core/REPLAY.md): httpd on lwIP over a vwire serves a
# scripted set of requests while recording; its log then replays as a
# process with the same console and the same frames sent, checked as they
# happen. A cut log, a changed frame and another app's log are refused
# with what differed.
. "$top_srcdir/tests/posix/lib.sh"
need python3

hub=$tmp/hub.sock
serve 'listening on' "$tmp/hub.log" "$vwire_hub" "$hub"

rec=$tmp/httpd.rr
serve 'serving' "$tmp/httpd.out" "$httpd" --net "net0=vwire:$hub" ip=10.77.7.2/24 port=80 \
	synthetic=1k,64k record="$rec"
httpd_pid=$pid
requests=0
get() { # get PATH STATUS
	check "recorded: GET $1 is $2" 0 "HTTP/1.1 $2" -- \
		"$net_client" --net "net0=vwire:$hub" ip=10.77.7.3/24 \
		to=10.77.7.2:80 mode=http path="$1"
	requests=$((requests + 1))
}
get / 200
get /1k 200
get /64k 200
get /nope 404
get /index.html 200
stop "$httpd_pid"
code=$?
if [ "$code" -eq 0 ] && [ -s "$rec" ]; then
	ok "httpd stops cleanly and leaves its log"
else
	not_ok "httpd stops cleanly and leaves its log" "exit $code" "$(cat "$tmp/httpd.out")"
fi
bytes=$(wc -c <"$rec")
echo "# log: $bytes bytes for $requests requests, $((bytes / requests)) per request"

# ended NAME STATUS WANT PATTERN FILE: a run that already ended had exit
# status WANT and a line of FILE matches PATTERN.
ended() {
	if [ "$2" -eq "$3" ] && grep -Eq -- "$4" "$5"; then
		ok "$1"
	else
		not_ok "$1" "exit status $2, wanted $3" "$(cat "$5")"
	fi
}

"$httpd" --replay "$rec" >"$tmp/replay.out" 2>"$tmp/replay.err"
ended "the replay runs to the recorded end, every frame and line checked" $? 0 \
	'outputs identical, exit code 0' "$tmp/replay.err"
if cmp -s "$tmp/httpd.out" "$tmp/replay.out"; then
	ok "the replay's console is the recording's, byte for byte"
else
	not_ok "the replay's console is the recording's, byte for byte" \
		"$(diff "$tmp/httpd.out" "$tmp/replay.out" | head -20)"
fi
check "the log lists its frames" 0 '^[0-9]+ @0x[0-9a-f]+ TX net0 len [0-9]+ crc' -- \
	"$httpd" --replay-dump "$rec"

head -c $((bytes / 2)) "$rec" >"$tmp/cut.rr"
check "a cut log replays up to its end, then says so (exit 4)" 4 \
	'^replay: the log ends at record [0-9]+ \(no END' -- "$httpd" --replay "$tmp/cut.rr"

# One byte of the third frame received changes (the checksums redone, as
# a recording of another run would have them): the replay must notice at
# the first output that differs.
python3 - "$rec" "$tmp/changed.rr" <<'PY'
import struct, sys
T = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc32c(crc, b):
    crc ^= 0xffffffff
    for x in b:
        crc = T[(crc ^ x) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff
b = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack_from('<I', b, 8)[0]
pos, crc, rx = 16 + n, struct.unpack_from('<I', b, 12 + n)[0], 0
while pos < len(b):
    p = pos + 2; v = s = 0
    while True:
        c = b[p]; p += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: break
    if b[pos] == 10:  # RX
        rx += 1
        if rx == 3:
            b[p + v - 1] ^= 0xff
    crc = crc32c(crc, b[pos:p + v])
    struct.pack_into('<I', b, p + v, crc)
    pos = p + v + 4
open(sys.argv[2], 'wb').write(b)
PY
check "a changed frame received stops the replay at the first difference (exit 5)" 5 \
	'^replay: divergence at record [0-9]+ \(offset 0x[0-9a-f]+\): expected .*, got ' -- \
	"$httpd" --replay "$tmp/changed.rr"

"$hello" ticks=1 interval=1ms record="$tmp/hello.rr" >/dev/null 2>&1
check "another app's log is refused (exit 2)" 2 'recorded by hello at commit .*this is httpd' -- \
	"$httpd" --replay "$tmp/hello.rr"
check "hello replays its own log" 0 'outputs identical' -- "$hello" --replay "$tmp/hello.rr"
# A disk: httpd serves a tar image, and its replay has the bytes it read
# from the log alone (the image is gone by then).
mkdir -p "$tmp/site"
echo "from the disk" >"$tmp/site/index.html"
head -c 100000 /dev/urandom >"$tmp/site/big.bin"
tar -C "$tmp/site" -cf "$tmp/site.img" index.html big.bin
serve 'serving' "$tmp/disk.out" "$httpd" --net "net0=vwire:$hub" --block "disk0=$tmp/site.img,ro" \
	ip=10.77.7.2/24 port=80 record="$tmp/disk.rr"
disk_pid=$pid
check "recorded: GET /big.bin from the disk" 0 'HTTP/1.1 200 OK, body 100000 bytes' -- \
	"$net_client" --net "net0=vwire:$hub" ip=10.77.7.3/24 to=10.77.7.2:80 \
	mode=http path=/big.bin
stop "$disk_pid"
rm "$tmp/site.img"
"$httpd" --replay "$tmp/disk.rr" >"$tmp/disk-replay.out" 2>"$tmp/disk-replay.err"
ended "the disk's replay reads what the recording read, from the log" $? 0 \
	'outputs identical' "$tmp/disk-replay.err"
check "the disk's completions are in the log" 0 '^[0-9]+ @0x[0-9a-f]+ DONE disk0 seq [0-9]+ status 0 with 32768 bytes' -- \
	"$httpd" --replay-dump "$tmp/disk.rr"

# A crash that depends on the input: the reflector fails an assertion on
# its third frame. The fatal-signal handler writes the log out; the
# replay fails the same assertion in the same function, under gdb too.
serve 'mode reflect' "$tmp/crash.out" "$net_raw" --net "net0=vwire:$hub" mode=reflect crash_at=3 \
	record="$tmp/crash.rr"
crash_pid=$pid
timeout 10 "$net_raw" --net "net0=vwire:$hub" mode=ping count=5 timeout=2s >/dev/null 2>&1
wait "$crash_pid"
ended "the recorded reflector fails its assertion on the third frame" $? 134 \
	'crash_at= reached' "$tmp/crash.out"
check "its replay fails the same assertion" 134 'net_raw.c:[0-9]+: on_frame: Assertion' -- \
	"$net_raw" --replay "$tmp/crash.rr"
if command -v gdb >/dev/null 2>&1; then
	check "under gdb the replay stops in on_frame, with its source line" 0 \
		'^#[0-9]+ +(0x[0-9a-f]+ in )?on_frame \(.*\) at .*tests/posix/net_raw\.c:[0-9]+' -- \
		gdb -batch -nx -ex 'set debuginfod enabled off' -ex run -ex bt \
		--args "$net_raw" --replay "$tmp/crash.rr"
fi
check "the socket stack refuses to be recorded" 1 'socket stack cannot be recorded' -- \
	"$httpd" port="$(free_port)" record="$tmp/sock.rr"
finish
