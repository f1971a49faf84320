# httpd serving a tar image from a block device (--block disk0=IMG) on the
# socket stack: every file byte for byte, index pages, ETags from the
# archive, ranges, parallel downloads, plain tar images, a clear failure for
# a damaged image, read errors (a disk that shrank under httpd), and a
# 64 MiB image served in far less memory than the image.
. "$top_srcdir/tests/posix/lib.sh"

need curl python3
[ -x "$httpd" ] || skip_all "httpd not built"

# A site with sub-folders, an empty file, a binary file, a long name.
site=$tmp/site
long=docs/$(printf 'n%.0s' $(seq 1 120)).txt
mkdir -p "$site/css" "$site/img" "$site/docs" "$site/sub"
printf '<h1>from the disk</h1>\n' >"$site/index.html"
printf 'body { color: red }\n' >"$site/css/site.css"
head -c 100000 /dev/urandom >"$site/img/logo.bin"
: >"$site/empty.txt"
printf 'a long name\n' >"$site/$long"
printf '<p>sub</p>\n' >"$site/sub/index.html"
files=$(cd "$site" && find . -type f | sed 's|^\./||' | sort)

# start IMG: runs httpd on IMG; sets pid, port, base, log.
start() {
	port=$(free_port)
	base=http://127.0.0.1:$port
	serve serving "$tmp/httpd.$port.log" "$httpd" --block "disk0=$1,ro" port="$port"
}

curl="curl -sS --max-time 10"

if "$duet" mkimage "$site" -o "$tmp/site.img" 2>"$tmp/mkimage.log" &&
	[ $(($(stat -c %s "$tmp/site.img") % 512)) -eq 0 ]; then
	ok "mkimage writes a sector-padded image"
else
	not_ok "mkimage writes a sector-padded image" "$(cat "$tmp/mkimage.log")"
fi

start "$tmp/site.img"
nfiles=$(printf '%s\n' "$files" | wc -l)
grep -q "serving $nfiles files" "$log" &&
	ok "serves the image's $nfiles files" || { not_ok "serves the image's $nfiles files" "$(cat "$log")"; }

for f in $files; do
	if $curl -o "$tmp/got" "$base/$f" && cmp -s "$tmp/got" "$site/$f"; then
		ok "/$f is byte-identical"
	else
		not_ok "/$f is byte-identical" "$(tail -3 "$log")"
	fi
done
$curl -o "$tmp/got" "$base/" && cmp -s "$tmp/got" "$site/index.html" &&
	ok "/ serves index.html" || not_ok "/ serves index.html"
$curl -o "$tmp/got" "$base/sub/" && cmp -s "$tmp/got" "$site/sub/index.html" &&
	ok "/sub/ serves sub/index.html" || not_ok "/sub/ serves sub/index.html"
code=$($curl -o /dev/null -w '%{http_code}' "$base/nothing-here")
[ "$code" = 404 ] && ok "a missing file is 404" || not_ok "a missing file is 404" "got $code"

etag=$($curl -D - -o /dev/null "$base/css/site.css" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
etag2=$($curl -D - -o /dev/null "$base/css/site.css" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
other=$($curl -D - -o /dev/null "$base/index.html" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
if [ -n "$etag" ] && [ "$etag" = "$etag2" ] && [ "$etag" != "$other" ]; then
	ok "ETags from the archive: stable, per file"
else
	not_ok "ETags from the archive: stable, per file" "$etag / $etag2 / $other"
fi
code=$($curl -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$base/css/site.css")
[ "$code" = 304 ] && ok "If-None-Match with the ETag is 304" || not_ok "If-None-Match with the ETag is 304" "got $code"
ctype=$($curl -D - -o /dev/null "$base/css/site.css" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
[ "$ctype" = "text/css; charset=utf-8" ] && ok "Content-Type by extension" ||
	not_ok "Content-Type by extension" "got $ctype"
code=$($curl -o "$tmp/got" -w '%{http_code}' -r 30001-70000 "$base/img/logo.bin")
dd if="$site/img/logo.bin" bs=1 skip=30001 count=40000 of="$tmp/want" 2>/dev/null
[ "$code" = 206 ] && cmp -s "$tmp/got" "$tmp/want" &&
	ok "a range in the middle of a file" || not_ok "a range in the middle of a file" "got $code"
pids=
for i in 1 2 3 4 5 6 7 8; do
	$curl -o "$tmp/par.$i" "$base/img/logo.bin" &
	pids="$pids $!"
done
wait $pids
par_ok=0
for i in 1 2 3 4 5 6 7 8; do
	cmp -s "$tmp/par.$i" "$site/img/logo.bin" || par_ok=1
done
[ $par_ok -eq 0 ] && ok "8 parallel downloads, each byte-identical" ||
	not_ok "8 parallel downloads, each byte-identical"
stop "$pid"
status=$?
[ "$status" -eq 0 ] && ok "SIGTERM: orderly stop" || not_ok "SIGTERM: orderly stop" "status $status"

# A plain tar (names start with ./, GNU format, default padding) works too.
(cd "$site" && tar --format=gnu -cf "$tmp/plain.tar" .)
start "$tmp/plain.tar"
if $curl -o "$tmp/got" "$base/$long" && cmp -s "$tmp/got" "$site/$long" &&
	$curl -o "$tmp/got" "$base/img/logo.bin" && cmp -s "$tmp/got" "$site/img/logo.bin"; then
	ok "a plain GNU tar image serves too"
else
	not_ok "a plain GNU tar image serves too" "$(cat "$log")"
fi
stop "$pid"

# Names that need percent-encoding in a URL: each is fetched by its encoded
# path; unreserved characters sent encoded name the same file; an encoded
# slash or NUL is refused; dot segments, encoded or not, stay in the site.
odd=$tmp/odd
mkdir -p "$odd/dir"
printf 'space\n' >"$odd/a b.txt"
printf 'accent\n' >"$odd/caf$(printf '\303\251').txt"
printf 'percent\n' >"$odd/100%.txt"
printf 'question\n' >"$odd/what?.txt"
printf 'hash\n' >"$odd/c#.txt"
printf 'index\n' >"$odd/index.html"
printf 'inner\n' >"$odd/dir/in.txt"
"$duet" mkimage "$odd" -o "$tmp/odd.img" 2>/dev/null
start "$tmp/odd.img"
for pair in "a%20b.txt:a b.txt" "caf%C3%A9.txt:caf\303\251.txt" \
	"100%25.txt:100%.txt" "what%3F.txt:what?.txt" "c%23.txt:c#.txt" \
	"%69ndex.html:index.html" "%64ir/%69n.txt:dir/in.txt" \
	"dir/%2e%2e/a%20b.txt:a b.txt" "dir/../../../c%23.txt:c#.txt"; do
	url=${pair%%:*}
	name=$(printf '%b' "${pair#*:}")
	if $curl --path-as-is -o "$tmp/got" "$base/$url" && cmp -s "$tmp/got" "$odd/$name"; then
		ok "/$url serves '$name'"
	else
		not_ok "/$url serves '$name'" "$(tail -2 "$log")"
	fi
done
for url in "dir%2Fin.txt" "a%00b.txt" "a%zz.txt"; do
	code=$($curl -o /dev/null -w '%{http_code}' "$base/$url")
	[ "$code" = 400 ] && ok "/$url is 400" || not_ok "/$url is 400" "got $code"
done
# Host validation and chunked request bodies, end to end.
for host in "a b" "local/host" ""; do
	code=$($curl -o /dev/null -w '%{http_code}' -H "Host: $host" "$base/index.html")
	[ "$code" = 400 ] && ok "Host '$host' is 400" || not_ok "Host '$host' is 400" "got $code"
done
code=$(printf 'hello' | $curl -o "$tmp/got" -w '%{http_code}' -X GET \
	-H 'Transfer-Encoding: chunked' --data-binary @- "$base/a%20b.txt")
[ "$code" = 200 ] && cmp -s "$tmp/got" "$odd/a b.txt" &&
	ok "a GET with a chunked body is served" || not_ok "a GET with a chunked body is served" "got $code"
stop "$pid"

# The disk shrinks under httpd: a file cut in its middle resets the
# connection after what could be read; a file wholly gone is a 500; other
# files still serve. (mkimage sorts by name: y.bin and z.bin come last.)
big=$tmp/cut
mkdir -p "$big"
printf 'still here\n' >"$big/a.txt"
head -c 2000000 /dev/urandom >"$big/y.bin"
head -c 1000 /dev/urandom >"$big/z.bin"
"$duet" mkimage "$big" -o "$tmp/cut.img" 2>/dev/null
start "$tmp/cut.img"
truncate -s $((1024 + 512 * 2 + 1000000)) "$tmp/cut.img"
$curl -o "$tmp/got" "$base/y.bin" 2>/dev/null
rc=$?
n=$(stat -c %s "$tmp/got" 2>/dev/null || echo 0)
head -c "$n" "$big/y.bin" >"$tmp/want"
if [ $rc -ne 0 ] && [ "$n" -lt 2000000 ] && cmp -s "$tmp/got" "$tmp/want" &&
	grep -q 'reading /y.bin at byte .*resetting the connection' "$log"; then
	ok "a read error mid-body resets the connection, logged ($n bytes came)"
else
	not_ok "a read error mid-body resets the connection, logged" "curl $rc, $n bytes; $(tail -3 "$log")"
fi
code=$($curl -o /dev/null -w '%{http_code}' "$base/z.bin")
[ "$code" = 500 ] && grep -q 'reading /z.bin: .*answering 500' "$log" &&
	ok "a read error before the head is a 500, logged" ||
	not_ok "a read error before the head is a 500, logged" "got $code"
$curl -o "$tmp/got" "$base/a.txt" && cmp -s "$tmp/got" "$big/a.txt" &&
	ok "other files still serve after read errors" ||
	not_ok "other files still serve after read errors"
stop "$pid"
status=$?
[ "$status" -eq 0 ] && ok "orderly stop after read errors" || not_ok "orderly stop after read errors" "status $status"

# A 64 MiB file: served byte for byte while httpd's peak memory stays far
# below the image (bytes are read per request, never all at once; httpd
# used to hold the whole image). ASan's shadow memory makes every process
# bigger, so its bound is looser, but still half the image.
huge=$tmp/huge
mkdir -p "$huge"
head -c $((64 << 20)) /dev/urandom >"$huge/huge.bin"
"$duet" mkimage "$huge" -o "$tmp/huge.img" 2>/dev/null
start "$tmp/huge.img"
if $curl --max-time 60 -o "$tmp/got" "$base/huge.bin" && cmp -s "$tmp/got" "$huge/huge.bin"; then
	ok "a 64 MiB file is byte-identical"
else
	not_ok "a 64 MiB file is byte-identical" "$(tail -3 "$log")"
fi
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
cap=16
[ -z "${DUET_SANITIZERS:-}" ] || cap=32
if [ -n "$hwm" ] && [ "$hwm" -lt $((cap << 10)) ]; then
	ok "serving a 64 MiB image peaks at ${hwm} kB of memory (under $cap MiB)"
else
	not_ok "serving a 64 MiB image peaks under $cap MiB of memory" "VmHWM ${hwm} kB"
fi
stop "$pid"
rm -f "$tmp/huge.img" "$tmp/got" "$huge/huge.bin"

# A damaged image: the boot fails with the reason, nothing is served.
cp "$tmp/site.img" "$tmp/bad.img"
printf 'garbage!' | dd of="$tmp/bad.img" bs=1 seek=600 conv=notrunc 2>/dev/null
printf 'XXXXXXXX' | dd of="$tmp/bad.img" bs=1 seek=148 conv=notrunc 2>/dev/null
check "a damaged image fails the boot, saying why" 1 "tar: disk0: entry 0 at byte 0: not a tar archive" -- \
	"$httpd" --block "disk0=$tmp/bad.img,ro" port="$port"
finish
