#!/usr/bin/env bash
# bench/httpd.sh [HTTPD_IMAGE]: Duet's httpd against nginx, same files, same
# run. wrk (on CPU 0) loads each server (on CPU 1) in turn, alternating
# (A B C A B C ...) so drifts in machine speed hit all alike; prints medians
# of req/s and p99 latency and each Duet stack's ratio to nginx.
#
# The servers: httpd on the socket stack, httpd on lwIP over a tap (as
# root: the whole benchmark then runs inside a network namespace it makes,
# so nothing leaves the machine), and nginx. nginx and the socket stack
# talk over the namespace's loopback, lwIP over the tap (MTU 65517).
#
# Environment:
#   BENCH_SIZES="1k 64k"   files to fetch (httpd serves them via synthetic=)
#   BENCH_REPS=5           runs per server and size
#   BENCH_DURATION=8s      length of one wrk run
#   BENCH_CONNS=64         wrk connections (one thread)
#   BENCH_DUET_ARGS=       extra arguments for httpd: the hook for other
#                          stacks, e.g. lwIP over a tap in a namespace
#                          (see bench/README.md)
#   BENCH_HOST=127.0.0.1   address the Duet server is reached at
#   BENCH_LWIP=1           0: skip lwIP over a tap (it needs root)
#   BENCH_TLS=1            0: skip the HTTPS rows
#
# HTTPS rows (same run): httpd tls=on on the socket stack against nginx
# with the same ECDSA P-256 certificate, TLS 1.2 and
# ECDHE-ECDSA-AES128-GCM-SHA256 only: keep-alive requests for 1k, and new
# connections each with a full handshake (Connection: close; no session
# cache, no tickets on either side).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
httpd=${1:-$here/../build/posix/apps/httpd/httpd}
sizes=${BENCH_SIZES:-1k 64k}
reps=${BENCH_REPS:-5}
duration=${BENCH_DURATION:-8s}
conns=${BENCH_CONNS:-64}
duet_host=${BENCH_HOST:-127.0.0.1}
read -r -a duet_args <<<"${BENCH_DUET_ARGS:-}"
. "$here/lib.sh"

[[ -x $httpd ]] || die "no httpd image at $httpd (build it: ./duet build httpd)"

need=()
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
install_peers "installing ${need[*]}" "${need[@]}"

# lwIP over a tap: re-run this script inside a namespace that owns the tap.
lwip_addr=10.77.50.2
if [[ ${BENCH_LWIP:-1} = 1 && -z ${DUET_BENCH_NS:-} ]]; then
	if [[ $(id -u) -ne 0 ]]; then
		say "not root: skipping lwIP over a tap (BENCH_LWIP=0 silences this)"
	else
		in_tap_netns dbtap0 10.77.50.1/24 "${BASH_SOURCE[0]}" "$@"
	fi
fi

pin_cpus
make_tmp /tmp/duet-bench.XXXXXX
lwip_pid=

wait_http() {
	local url=$1
	for _ in $(seq 100); do
		curl -sf -o /dev/null --max-time 1 "$url" && return 0
		sleep 0.1
	done
	return 1
}

# --------------------------------------------------------------- servers
duet_port=$(free_port)
synthetic=$(echo "$sizes" | tr ' ' ',')
"${server_cpu[@]}" "$httpd" port="$duet_port" addr="$duet_host" access_log=off \
	max_conns=4096 synthetic="$synthetic" "${duet_args[@]}" >"$tmp/duet.log" 2>&1 &
track $!
duet_url=http://$duet_host:$duet_port
wait_http "$duet_url/" || { cat "$tmp/duet.log" >&2; die "httpd did not start"; }
servers=(socket)
if [[ -n ${DUET_BENCH_NS:-} ]]; then
	"${server_cpu[@]}" "$httpd" --net net0=tap:dbtap0 ip=$lwip_addr/24 port=80 \
		access_log=off max_conns=4096 synthetic="$synthetic" >"$tmp/lwip.log" 2>&1 &
	lwip_pid=$!
	track "$lwip_pid"
	wait_http "http://$lwip_addr/" || { cat "$tmp/lwip.log" >&2; die "httpd on lwIP did not start"; }
	servers+=(lwip)
fi
servers+=(nginx)

# HTTPS: one certificate for both servers, on a tar image for httpd.
tls=${BENCH_TLS:-1}
if [[ $tls = 1 ]]; then
	mkdir -p "$tmp/keys"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$tmp/keys/key.pem" -out "$tmp/keys/cert.pem" 2>/dev/null
	(cd "$tmp/keys" && tar -cf "$tmp/keys.tar" cert.pem key.pem)
	duet_tls_port=$(free_port)
	"${server_cpu[@]}" "$httpd" --block "disk1=$tmp/keys.tar,ro" tls=on tls_disk=disk1 \
		cert=/cert.pem key=/key.pem tls_resume=off port="$duet_tls_port" \
		addr=127.0.0.1 access_log=off max_conns=4096 synthetic=1k >"$tmp/duet-tls.log" 2>&1 &
	track $!
	duet_tls_pid=$!
	wait_https() {
		for _ in $(seq 100); do
			curl -sf -o /dev/null --max-time 1 --cacert "$tmp/keys/cert.pem" "$1" && return 0
			sleep 0.1
		done
		return 1
	}
	wait_https "https://127.0.0.1:$duet_tls_port/1k" ||
		{ cat "$tmp/duet-tls.log" >&2; die "httpd tls=on did not start"; }
fi

# nginx serves the very bytes httpd generates.
mkdir -p "$tmp/www" "$tmp/nginx"
for s in $sizes; do curl -sf -o "$tmp/www/$s" "$duet_url/$s"; done
# nginx started as root serves from an unprivileged worker.
chmod 755 "$tmp" "$tmp/www"
chmod 644 "$tmp/www"/*
nginx_port=$(free_port)
tls_server=
if [[ $tls = 1 ]]; then
	nginx_tls_port=$(free_port)
	tls_server="server {
		listen 127.0.0.1:$nginx_tls_port ssl;
		ssl_certificate $tmp/keys/cert.pem;
		ssl_certificate_key $tmp/keys/key.pem;
		ssl_protocols TLSv1.2;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
		ssl_prefer_server_ciphers on;
		ssl_session_cache off;
		ssl_session_tickets off;
		root $tmp/www;
	}"
fi
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	default_type application/octet-stream;
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 100000000;
	keepalive_timeout 65;
	open_file_cache max=16 inactive=60s;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$nginx_port;
		root $tmp/www;
	}
	$tls_server
}
CONF
"${server_cpu[@]}" /usr/sbin/nginx -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
	-p "$tmp/nginx" >"$tmp/nginx.log" 2>&1 &
track $!
nginx_master=$!
nginx_url=http://127.0.0.1:$nginx_port
wait_http "$nginx_url/${sizes%% *}" || { cat "$tmp/nginx.log" "$tmp/nginx/error.log" >&2; die "nginx did not start"; }

url_of() {
	case $1 in
	socket) echo "$duet_url" ;;
	lwip) echo "http://$lwip_addr" ;;
	nginx) echo "$nginx_url" ;;
	esac
}

for s in $sizes; do
	for server in "${servers[@]}"; do
		cmp -s <(curl -sf "$(url_of "$server")/$s") <(curl -sf "$nginx_url/$s") ||
			die "$server and nginx serve different bytes for /$s"
	done
done

# ------------------------------------------------------------------ runs
# wrk_run URL DURATION [WRK ARGS...]: prints "REQ_PER_SEC P99_MS". A
# failed wrk is reported (wrk-failed), not fatal.
wrk_run() {
	local url=$1 d=$2
	shift 2
	{ "${client_cpu[@]}" wrk -t1 -c"$conns" -d"$d" --latency "$@" "$url" 2>&1 || true; } | awk '
		/Requests\/sec:/ { rps = $2 }
		/^ +99%/ {
			v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			ms = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v
		}
		/Non-2xx|Socket errors/ { err = err " " $0 }
		END {
			if (rps == "") { print "0 0 wrk-failed"; exit }
			printf "%s %.3f%s\n", rps, ms, (err != "" ? " errors:" err : "")
		}'
}

say "httpd: $httpd ${duet_args[*]} (stack: $(sed -n 's/.*(\(.*\) stack).*/\1/p' "$tmp/duet.log" | head -1))"
[[ -z $lwip_pid ]] || say "httpd on lwIP: --net net0=tap:dbtap0 ip=$lwip_addr/24 (in namespace $DUET_BENCH_NS)"
say "nginx: $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), 1 worker, sendfile"
say "wrk: -t1 -c$conns -d$duration, $reps runs per server and size, alternating"
for s in $sizes; do
	for server in "${servers[@]}"; do
		wrk_run "$(url_of "$server")/$s" 2s >/dev/null
	done
done

results=$tmp/results
: >"$results"
for r in $(seq "$reps"); do
	for s in $sizes; do
		for server in "${servers[@]}"; do
			line=$(wrk_run "$(url_of "$server")/$s" "$duration")
			say "run $r $s $server: $line"
			echo "$s $server $line $r" >>"$results"
		done
	done
done

# The ratio is the median of each round's Duet/nginx pair: the two runs of
# a pair are seconds apart, so slow drifts of the machine cancel out.
printf '\n%-6s %-6s %12s %10s %16s\n' size server "req/s" "p99 ms" "ratio to nginx"
for s in $sizes; do
	for server in "${servers[@]}"; do
		rps=$(awk -v s="$s" -v v="$server" '$1 == s && $2 == v { print $3 }' "$results" | median)
		p99=$(awk -v s="$s" -v v="$server" '$1 == s && $2 == v { print $4 }' "$results" | median)
		if [[ $server != nginx ]]; then
			ratio=$(awk -v s="$s" -v d="$server" '$1 == s { r = $NF; v[$2, r] = $3; n[r] = 1 }
				END { for (r in n) if (v["nginx", r] > 0) print v[d, r] / v["nginx", r] }' \
				"$results" | median)
			ratio=$(printf '%.2fx' "$ratio")
		else
			ratio=
		fi
		printf '%-6s %-6s %12.0f %10.3f %16s\n' "$s" "$server" "$rps" "$p99" "$ratio"
	done
done
if grep -q 'errors:\|wrk-failed' "$results"; then
	say "some runs reported errors:"
	grep 'errors:\|wrk-failed' "$results" >&2
fi

# ----------------------------------------------------------------- HTTPS
[[ $tls = 1 ]] || exit 0
tls_url_of() {
	case $1 in
	tls) echo "https://127.0.0.1:$duet_tls_port" ;;
	nginx-tls) echo "https://127.0.0.1:$nginx_tls_port" ;;
	esac
}
cmp -s <(curl -sf --cacert "$tmp/keys/cert.pem" "$(tls_url_of tls)/1k") \
	<(curl -sf --cacert "$tmp/keys/cert.pem" "$(tls_url_of nginx-tls)/1k") ||
	die "httpd and nginx serve different bytes for /1k over HTTPS"
for server in tls nginx-tls; do
	u=$(tls_url_of "$server")
	suite=$(timeout 10 openssl s_client -connect "${u#https://}" </dev/null 2>/dev/null |
		sed -n 's/^ *Cipher *: //p' | head -n 1 || true)
	say "$server: TLS 1.2, $suite"
done
tls_modes="keepalive handshake"
# The server's CPU time per request in a run (user + system, from
# /proc): a client-bound run can show equal req/s for servers that spend
# very different CPU on each handshake. nginx's work is its one worker's.
tls_pid_of() {
	case $1 in
	tls) echo "$duet_tls_pid" ;;
	nginx-tls) pgrep -P "$nginx_master" | head -n 1 ;;
	esac
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# mode_args MODE: sets args, wrk's extra arguments for MODE.
mode_args() {
	args=()
	[[ $1 = keepalive ]] || args=(-H "Connection: close")
}
for mode in $tls_modes; do
	for server in tls nginx-tls; do
		mode_args "$mode"
		wrk_run "$(tls_url_of "$server")/1k" 2s "${args[@]}" >/dev/null
	done
done
: >"$results.tls"
: >"$results.cpu"
for r in $(seq "$reps"); do
	for mode in $tls_modes; do
		for server in tls nginx-tls; do
			mode_args "$mode"
			pid=$(tls_pid_of "$server")
			t0=$(cpu_ticks "$pid")
			line=$(wrk_run "$(tls_url_of "$server")/1k" "$duration" "${args[@]}")
			t1=$(cpu_ticks "$pid")
			cpu=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v rps="${line%% *}" -v d="${duration%s}" \
				'BEGIN { printf "%.1f", (rps > 0 ? t / hz * 1e6 / (rps * d) : 0) }')
			say "run $r https $mode $server: $line, server CPU ${cpu} us/request"
			echo "$mode $server $cpu $r" >>"$results.cpu"
			echo "$mode $server $line $r" >>"$results.tls"
		done
	done
done
printf '\n%-22s %-9s %12s %10s %16s %14s\n' "https 1k" server "req/s" "p99 ms" "ratio to nginx" "CPU us/req"
for mode in $tls_modes; do
	for server in tls nginx-tls; do
		rps=$(awk -v s="$mode" -v v="$server" '$1 == s && $2 == v { print $3 }' "$results.tls" | median)
		p99=$(awk -v s="$mode" -v v="$server" '$1 == s && $2 == v { print $4 }' "$results.tls" | median)
		ratio=
		if [[ $server = tls ]]; then
			ratio=$(awk -v s="$mode" '$1 == s { r = $NF; v[$2, r] = $3; n[r] = 1 }
				END { for (r in n) if (v["nginx-tls", r] > 0) print v["tls", r] / v["nginx-tls", r] }' \
				"$results.tls" | median)
			ratio=$(printf '%.2fx' "$ratio")
		fi
		label=$([[ $mode = keepalive ]] && echo "keep-alive req/s" || echo "new handshakes/s")
		cpu=$(awk -v s="$mode" -v v="$server" '$1 == s && $2 == v { print $3 }' "$results.cpu" | median)
		printf '%-22s %-9s %12.0f %10.3f %16s %14.1f\n' "$label" "$server" "$rps" "$p99" "$ratio" "$cpu"
	done
done
if grep -q 'errors:\|wrk-failed' "$results.tls"; then
	say "some HTTPS runs reported errors:"
	grep 'errors:\|wrk-failed' "$results.tls" >&2
fi
