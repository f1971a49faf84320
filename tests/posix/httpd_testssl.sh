# Debian's testssl.sh against httpd tls=on (socket stack): no finding rated
# MEDIUM or worse. The certificate is what a real deployment has (made here:
# a CA of the test's own, which testssl is told to trust, a year of
# validity, a CRL distribution point), so the findings are the server's.
# About a minute: it tries every protocol, suite and known attack.
. "$top_srcdir/tests/posix/lib.sh"

need openssl testssl python3 tar

cd "$tmp" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/CN=Duet test CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-keyout key.pem -out req.pem 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	"basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=serverAuth" "crlDistributionPoints=URI:http://localhost/ca.crl" >ext.cnf
openssl x509 -req -in req.pem -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
	-sha256 -extfile ext.cnf -out cert.pem 2>/dev/null
tar -cf keys.tar cert.pem key.pem
port=$(free_port)
serve "serving .* on https://" httpd.log "$httpd" --block "disk1=$tmp/keys.tar,ro" \
	tls=on tls_disk=disk1 cert=/cert.pem key=/key.pem hsts=31536000 port="$port" \
	access_log=off

timeout 600 testssl --quiet --color 0 --warnings off --add-ca "$tmp/ca.pem" \
	--jsonfile "$tmp/out.json" "localhost:$port" >testssl.out 2>&1
status=$?
findings=$(python3 - "$tmp/out.json" <<'PY'
import json, sys
bad = [f for f in json.load(open(sys.argv[1]))
       if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
for f in bad:
    print(f["severity"], f["id"], f.get("finding", ""))
PY
)
count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/out.json" 2>/dev/null || echo 0)
if [ "$count" -lt 50 ]; then
	not_ok "testssl.sh ran its checks" "exit $status, $count findings" "$(tail -20 testssl.out)"
else
	ok "testssl.sh ran its checks ($count findings, exit $status)"
fi
[ -z "$findings" ] && [ "$count" -ge 50 ] &&
	ok "testssl.sh rates nothing MEDIUM or worse" ||
	not_ok "testssl.sh rates nothing MEDIUM or worse" "$findings"
grep -q "TLS 1.2 *offered (OK)" testssl.out && grep -q "TLS 1.1 *not offered" testssl.out &&
	ok "testssl.sh: TLS 1.2 only" || not_ok "testssl.sh: TLS 1.2 only" "$(grep 'TLS 1' testssl.out)"
stop "$pid"
finish
