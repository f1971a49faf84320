# httpd tls=on on the POSIX socket stack: the boot's test certificate and
# how to trust it, pages byte for byte over HTTPS (curl --cacert), TLS 1.2
# with ECDHE-ECDSA-AES128-GCM and ALPN http/1.1, refusals with the right
# alert (TLS 1.1, suites not offered, garbage, truncated and oversize
# records, renegotiation) after which the server still serves, a stalled
# handshake ended within request_timeout, session resumption, an RSA
# certificate and key from a tar image on disk0 (the key never served),
# the plain redirect listener and HSTS, keys on a disk of their own
# (tls_disk=), cert= and key= naming host files (./duet run), and
# credentials that do not match.
. "$top_srcdir/tests/posix/lib.sh"
site=$top_srcdir/apps/httpd/site

need curl openssl python3 tar

# start NAME ARGS...: runs httpd; sets port, pid and log, waits for it to
# serve.
start() {
	name=$1
	shift
	port=$(free_port)
	serve "serving .* on https://" "$tmp/$name.log" "$httpd" port="$port" "$@"
}

curl="curl -sS --max-time 10"

# ------------------------------------------------- the test certificate
start test tls=on request_timeout=2s
grep -q "curl --cacert duet-test.pem" "$log" &&
	ok "without cert= it says how to trust its test certificate" ||
	not_ok "without cert= it says how to trust its test certificate" "$(cat "$log")"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$log" >"$tmp/ca.pem"
openssl x509 -in "$tmp/ca.pem" -noout -subject -ext subjectAltName >"$tmp/x509" 2>&1 &&
	grep -q "CN *= *localhost" "$tmp/x509" && grep -q "IP Address:127.0.0.1" "$tmp/x509" &&
	ok "the printed certificate is X.509 for localhost and 127.0.0.1" ||
	not_ok "the printed certificate is X.509 for localhost and 127.0.0.1" "$(cat "$tmp/x509")"

base=https://localhost:$port
for f in index.html style.css robots.txt favicon.svg; do
	if $curl --cacert "$tmp/ca.pem" -o "$tmp/got" "$base/$f" && cmp -s "$tmp/got" "$site/$f"; then
		ok "/$f over HTTPS (curl --cacert) is byte-identical"
	else
		not_ok "/$f over HTTPS (curl --cacert) is byte-identical"
	fi
done

s_client() { timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" </dev/null 2>&1; }
out=$(s_client -alpn http/1.1 -CAfile "$tmp/ca.pem")
printf '%s\n' "$out" | grep -q "Protocol *: TLSv1.2" &&
	printf '%s\n' "$out" | grep -q "Cipher *: ECDHE-ECDSA-AES128-GCM-SHA256" &&
	printf '%s\n' "$out" | grep -q "ALPN protocol: http/1.1" &&
	printf '%s\n' "$out" | grep -q "Verify return code: 0 (ok)" &&
	ok "TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, ALPN http/1.1, verified" ||
	not_ok "TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, ALPN http/1.1, verified" "$out"
out=$(s_client -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -tls1_2)
printf '%s\n' "$out" | grep -q "Cipher *: ECDHE-ECDSA-CHACHA20-POLY1305" &&
	ok "ChaCha20-Poly1305 when the client asks for it" ||
	not_ok "ChaCha20-Poly1305 when the client asks for it" "$out"
# Each key exchange group the client may insist on: the handshake (whose
# Finished messages prove both sides derived the same secret) and the
# server's signature over it verify with OpenSSL's own curve code.
for group in X25519:X25519 P-256:prime256v1 P-384:secp384r1; do
	out=$(s_client -groups "${group%%:*}" -CAfile "$tmp/ca.pem")
	printf '%s\n' "$out" | grep -q "Server Temp Key: .*${group#*:}" &&
		printf '%s\n' "$out" | grep -q "Verify return code: 0 (ok)" &&
		ok "ECDHE over ${group%%:*}, verified" ||
		not_ok "ECDHE over ${group%%:*}, verified" "$out"
done

# still_serves NAME: the server answers a real client after NAME.
still_serves() {
	if $curl --cacert "$tmp/ca.pem" -o "$tmp/got" "$base/index.html" &&
		cmp -s "$tmp/got" "$site/index.html"; then
		ok "still serves after $1"
	else
		not_ok "still serves after $1" "$(tail -5 "$log")"
	fi
}

# ------------------------------------------------------------- refusals
out=$(s_client -tls1_1)
printf '%s\n' "$out" | grep -q "alert protocol version" &&
	ok "TLS 1.1 is refused with protocol_version" ||
	not_ok "TLS 1.1 is refused with protocol_version" "$out"
out=$(s_client -tls1_2 -cipher AES128-SHA:ECDHE-RSA-AES128-SHA)
printf '%s\n' "$out" | grep -q "alert handshake failure" &&
	ok "suites not offered are refused with handshake_failure" ||
	not_ok "suites not offered are refused with handshake_failure" "$out"
out=$(s_client -tls1_2 -alpn h2)
printf '%s\n' "$out" | grep -q "alert no application protocol" &&
	ok "ALPN without http/1.1 is refused with no_application_protocol" ||
	not_ok "ALPN without http/1.1 is refused with no_application_protocol" "$out"
still_serves "refused hellos"

# raw HEX...: sends bytes to the server, prints what comes back as hex
# (until it closes, at most 5 s).
raw() {
	python3 - "$port" "$@" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
for h in sys.argv[2:]:
    s.sendall(bytes.fromhex(h))
    time.sleep(0.05)
got = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
except Exception:
    got += b"TIMEOUT"
print(got.hex())
EOF
}
out=$(raw "$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')")
case $out in
150303000202*) ok "plain HTTP before the hello gets a fatal alert ($out)" ;;
*) not_ok "plain HTTP before the hello gets a fatal alert" "$out" ;;
esac
still_serves "garbage"
big=$(python3 -c 'print("16030348 00" + "00" * 18432)' | tr -d ' ')
out=$(raw "$big")
case $out in
15030300020216) ok "an oversize record gets record_overflow" ;;
150303000202*) ok "an oversize record gets a fatal alert ($out)" ;;
*) not_ok "an oversize record gets a fatal alert" "$out" ;;
esac
still_serves "an oversize record"
out=$(raw 16030100c8010000c40303)
case $out in
*TIMEOUT*) not_ok "a truncated hello then FIN is ended" "$out" ;;
*) ok "a truncated hello then FIN is ended" ;;
esac
still_serves "a truncated record"

# Renegotiation: s_client's "R" asks for it once the handshake is done.
out=$( (sleep 1; echo R; sleep 1) |
	timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 2>&1)
printf '%s\n' "$out" | grep -q "RENEGOTIATING" &&
	printf '%s\n' "$out" | grep -q "no renegotiation" &&
	ok "renegotiation is refused with no_renegotiation" ||
	not_ok "renegotiation is refused with no_renegotiation" "$out"
still_serves "a renegotiation attempt"

# A client that connects and never says hello: ended after request_timeout.
t0=$(date +%s%N)
out=$(raw "")
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$out" != TIMEOUT ] && [ "$ms" -ge 1500 ] && [ "$ms" -le 4500 ] &&
	ok "a stalled handshake is closed after request_timeout (${ms} ms, request_timeout=2s)" ||
	not_ok "a stalled handshake is closed after request_timeout" "$out after $ms ms"

# Resumption: the second connection reuses the first one's session.
s_client -sess_out "$tmp/sess" >/dev/null
out=$(s_client -sess_in "$tmp/sess")
printf '%s\n' "$out" | grep -q "^Reused, TLSv1.2" &&
	ok "a returning client resumes its session" ||
	not_ok "a returning client resumes its session" "$out"
stop "$pid"

# --------------------------------- an RSA certificate on a tar disk
mkdir -p "$tmp/site/tls"
cp "$site/index.html" "$tmp/site/"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$tmp/site/tls/key.pem" -out "$tmp/site/tls/cert.pem" 2>/dev/null
(cd "$tmp/site" && tar -cf "$tmp/site.tar" index.html tls)
start rsa --block "disk0=$tmp/site.tar,ro" tls=on cert=/tls/cert.pem \
	key=/tls/key.pem redirect=$(free_port) hsts=600
rport=$(sed -n 's/.*redirecting http on port \([0-9]*\).*/\1/p' "$log")
base=https://localhost:$port
out=$($curl --cacert "$tmp/site/tls/cert.pem" -D "$tmp/h" -o "$tmp/got" -w '%{http_code}' "$base/index.html" 2>&1)
[ "$out" = 200 ] && cmp -s "$tmp/got" "$site/index.html" &&
	ok "an RSA certificate and key from disk0's tar image serve HTTPS" ||
	not_ok "an RSA certificate and key from disk0's tar image serve HTTPS" "$out" "$(cat "$log")"
tr -d '\r' <"$tmp/h" | grep -qi "^Strict-Transport-Security: max-age=600$" &&
	ok "hsts=600 sends Strict-Transport-Security" ||
	not_ok "hsts=600 sends Strict-Transport-Security" "$(cat "$tmp/h")"
out=$(s_client -tls1_2)
printf '%s\n' "$out" | grep -q "Cipher *: ECDHE-RSA-AES128-GCM-SHA256" &&
	ok "ECDHE-RSA-AES128-GCM-SHA256 with the RSA key" ||
	not_ok "ECDHE-RSA-AES128-GCM-SHA256 with the RSA key" "$out"
code=$($curl --cacert "$tmp/site/tls/cert.pem" -o "$tmp/got" -w '%{http_code}' "$base/tls/key.pem")
[ "$code" = 404 ] && ! grep -q PRIVATE "$tmp/got" &&
	ok "the key's path is never served (404)" || not_ok "the key's path is never served (404)" "code $code"
out=$(curl -sS --max-time 10 -D - -o /dev/null "http://127.0.0.1:$rport/index.html?x=1" | tr -d '\r')
printf '%s\n' "$out" | grep -q "^HTTP/1.1 301" &&
	printf '%s\n' "$out" | grep -q "^Location: https://127.0.0.1:$port/index.html?x=1$" &&
	ok "redirect= answers 301 to the same target over HTTPS" ||
	not_ok "redirect= answers 301 to the same target over HTTPS" "$out"

# ------------------------- keys on a disk of their own, embedded site
(cd "$tmp/site/tls" && tar -cf "$tmp/keys.tar" cert.pem key.pem)
start keys --block "disk1=$tmp/keys.tar,ro" tls=on tls_disk=disk1 \
	cert=/cert.pem key=/key.pem synthetic=1k
base=https://localhost:$port
out=$($curl --cacert "$tmp/site/tls/cert.pem" -o "$tmp/got" -w '%{http_code} %{size_download}' "$base/1k" 2>&1)
[ "$out" = "200 1024" ] && $curl --cacert "$tmp/site/tls/cert.pem" -o "$tmp/got" "$base/index.html" &&
	cmp -s "$tmp/got" "$site/index.html" &&
	ok "tls_disk=disk1: keys from their own tar image, the embedded site served" ||
	not_ok "tls_disk=disk1: keys from their own tar image, the embedded site served" "$out" "$(cat "$log")"

# --------- keys as files of this machine (./duet run: build-aux/host-keys)
mkdir -p "$tmp/host"
chmod 700 "$tmp/host"
cp "$tmp/site/tls/cert.pem" "$tmp/site/tls/key.pem" "$tmp/host/"
args=()
while IFS= read -r -d '' a; do args+=("$a"); done < <("$top_srcdir/build-aux/host-keys" \
	"$tmp/hk" tls=on cert="$tmp/host/cert.pem" key="$tmp/host/key.pem" synthetic=1k)
start host "${args[@]}"
out=$($curl --cacert "$tmp/site/tls/cert.pem" -o "$tmp/got" -w '%{http_code} %{size_download}' "https://localhost:$port/1k" 2>&1)
[ "$out" = "200 1024" ] && grep -q "tls_disk=disk1" <<<"${args[*]}" &&
	ok "cert= and key= naming host files: served from a disk made of them" ||
	not_ok "cert= and key= naming host files: served from a disk made of them" "${args[*]}" "$out" "$(cat "$log")"
out=$("$top_srcdir/build-aux/host-keys" "$tmp/hk2" cert="$tmp/host/cert.pem" key=/site/key.pem 2>&1 >/dev/null)
status=$?
[ "$status" -eq 2 ] && grep -q "must both name files here" <<<"$out" &&
	ok "a host cert= with a site key=: refused, clearly" ||
	not_ok "a host cert= with a site key=: refused, clearly" "exit $status" "$out"

# ----------------------------------------------- credentials that fail
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/site/tls/other.pem" 2>/dev/null
(cd "$tmp/site" && tar -cf "$tmp/bad.tar" index.html tls)
out=$(timeout 10 "$httpd" --block "disk0=$tmp/bad.tar,ro" port="$(free_port)" tls=on \
	cert=/tls/cert.pem key=/tls/other.pem 2>&1)
status=$?
[ "$status" -ne 0 ] && printf '%s\n' "$out" | grep -q "does not match the certificate" &&
	ok "a key that is not the certificate's: a clear error, failed boot" ||
	not_ok "a key that is not the certificate's: a clear error, failed boot" "exit $status" "$out"
out=$(timeout 10 "$httpd" port="$(free_port)" tls=on cert=/nope.pem key=/nope.pem 2>&1)
status=$?
[ "$status" -ne 0 ] && printf '%s\n' "$out" | grep -q "cert=/nope.pem: no such file" &&
	ok "a cert= that is not there: a clear error, failed boot" ||
	not_ok "a cert= that is not there: a clear error, failed boot" "exit $status" "$out"

finish
