#!/usr/bin/env bash
# bench/hostile.sh [HTTPD_IMAGE]: Duet's httpd and nginx under hostile
# clients, in the same run, with the same number of slots (1024 connections
# each: httpd max_conns, nginx worker_connections):
#
#   - Slowloris: BENCH_FLOOD connections each trickling one byte of an
#     unfinished request head every second; then a silent flood of as many
#     connections that send nothing. During each, BENCH_PROBES GETs, one
#     after another, each on a new connection with a 10 s deadline: how many
#     are served, and the slowest.
#   - Memory: BENCH_KEEPALIVE keep-alive connections after one GET each
#     (servers with room for them): the server's peak RSS, and its RSS once
#     they are gone.
#
# The floods and the probe all come from 127.0.0.1 (httpd's per-address
# share is set to the whole pool, so only its eviction policy is at work).
# tests/posix/flood.py is the client. Environment: BENCH_FLOOD=3000,
# BENCH_PROBES=10, BENCH_KEEPALIVE=10000.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
httpd=${1:-$here/../build/posix/apps/httpd/httpd}
n=${BENCH_FLOOD:-3000}
probes=${BENCH_PROBES:-10}
ka=${BENCH_KEEPALIVE:-10000}
flood=(python3 "$here/../tests/posix/flood.py")
. "$here/lib.sh"

[[ -x $httpd ]] || die "no httpd image at $httpd (build it: ./duet build httpd)"
need=()
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
install_peers "installing ${need[*]}" "${need[@]}"
raise_nofile $((ka + 200))

make_tmp /tmp/duet-hostile.XXXXXX
mkdir -p "$tmp/www" "$tmp/nginx"
printf '<h1>probe</h1>\n' >"$tmp/www/index.html"
chmod 755 "$tmp" "$tmp/www"
chmod 644 "$tmp/www/index.html"

wait_http() {
	for _ in $(seq 100); do
		curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	return 1
}

# start_duet SLOTS: sets port and pid (the process whose memory counts).
start_duet() {
	port=$(free_port)
	"$httpd" port="$port" access_log=off max_conns="$1" max_per_peer="$1" \
		>"$tmp/duet.log" 2>&1 &
	pid=$!
	track "$pid"
	wait_http "$port" || { cat "$tmp/duet.log" >&2; die "httpd did not start"; }
}

# start_nginx SLOTS: one worker; pid is the worker's.
start_nginx() {
	port=$(free_port)
	cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $(($1 + 100));
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log crit;
events { worker_connections $1; }
http {
	access_log off;
	keepalive_timeout 65;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server { listen 127.0.0.1:$port; root $tmp/www; }
}
CONF
	/usr/sbin/nginx -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
		-p "$tmp/nginx" >"$tmp/nginx.log" 2>&1 &
	local master=$!
	track "$master"
	wait_http "$port" || { cat "$tmp/nginx.log" >&2; die "nginx did not start"; }
	pid=$(pgrep -P "$master" | head -1)
}

stop_server() {
	kill -TERM "$pid" 2>/dev/null || true
	[[ $1 = nginx ]] && kill -TERM "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
	sleep 0.5
}

kb() { rss_kb "$pid" "$1"; }

slowloris=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: %s' \
	"$(head -c 200 /dev/zero | tr '\0' a)" | od -An -v -tx1 | tr -d ' \n')

say "httpd: $httpd; nginx: $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), 1 worker"
say "$n hostile connections against 1024 slots, $probes probes each time"
results=()
for server in duet nginx; do
	"start_$server" 1024
	flood_row "$server" slowloris http trickle "$n" "$slowloris"
	flood_row "$server" silent http silent "$n"
	stop_server "$server"
done

say "$ka keep-alive connections, one GET each"
for server in duet nginx; do
	"start_$server" $((ka + 100))
	idle=$(kb VmRSS)
	"${flood[@]}" 127.0.0.1 "$port" keepalive "$ka" 2 >"$tmp/ka" 2>&1
	peak=$(kb VmHWM)
	sleep 1
	after=$(kb VmRSS)
	results+=("$(printf '%-6s keepalive %-5s %s; RSS idle %s kB, peak %s kB, after %s kB' \
		"$server" "$ka" "$(head -1 "$tmp/ka")" "$idle" "$peak" "$after")")
	say "${results[-1]}"
	stop_server "$server"
done
printf '\n'
printf '%s\n' "${results[@]}"
