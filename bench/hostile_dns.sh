#!/usr/bin/env bash
# bench/hostile_dns.sh [DNS_IMAGE]: Duet's dns and NSD under hostile TCP
# clients, in the same run, with the same number of TCP slots (1024: dns
# tcp_conns, NSD tcp-count) and the same TCP timeout (10 s: dns tcp_idle,
# NSD tcp-timeout; NSD's default is 120 s):
#
#   - Slow: BENCH_FLOOD connections each trickling one byte of an
#     unfinished length-prefixed query every second; then a silent flood of
#     as many connections that send nothing. During each, BENCH_PROBES TCP
#     queries, one after another, each on a new connection, retried after a
#     reset or a close within 5 s: how many are answered, and the slowest.
#   - Memory: BENCH_KEEPALIVE TCP connections after one query each
#     (servers with room for them, a 60 s timeout): how many each server
#     still holds 2 s after the last answer, the serving process's peak
#     RSS, and its RSS once they are gone.
#
# The floods and the probe all come from 127.0.0.1 (dns's tcp_per_peer is
# set to the whole pool, so only its eviction is at work; NSD has no
# per-address limit). tests/posix/flood.py is the client. NSD runs one
# server process (server-count 1); the RSS is that process's, not its
# parents' (the one that keeps the zones for reloads, and xfrd).
# Environment: BENCH_FLOOD=3000, BENCH_PROBES=10, BENCH_KEEPALIVE=10000.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
dns=${1:-$top/build/posix/apps/dns/dns}
n=${BENCH_FLOOD:-3000}
probes=${BENCH_PROBES:-10}
ka=${BENCH_KEEPALIVE:-10000}
slots=1024
flood=(python3 "$top/tests/posix/flood.py")
. "$here/lib.sh"

[[ -x $dns ]] || die "no dns image at $dns (build it: ./duet build dns)"
need=()
[[ -x /usr/sbin/nsd ]] || need+=(nsd)
install_peers "installing ${need[*]}" "${need[@]}"
raise_nofile $((ka + 200))

make_tmp /tmp/duet-hostile-dns.XXXXXX

# wait_dns: until the server on $port answers a TCP query (10 s at most).
wait_dns() {
	for _ in $(seq 20); do
		"${flood[@]}" 127.0.0.1 "$port" probe 1 dns 2>/dev/null |
			grep -q '^served 1 ' && return 0
		sleep 0.5
	done
	return 1
}

# start_duet SLOTS TIMEOUT: sets port and pid (the process whose memory
# counts).
start_duet() {
	port=$(free_port)
	"$dns" port="$port" addr=127.0.0.1 tcp_conns="$1" tcp_per_peer="$1" \
		tcp_idle="$2s" >"$tmp/duet.log" 2>&1 &
	pid=$!
	track "$pid"
	wait_dns || { cat "$tmp/duet.log" >&2; die "dns did not start"; }
}

# start_nsd SLOTS TIMEOUT: NSD's first process becomes xfrd, its child
# keeps the zones and forks the server process: pid is that grandchild.
start_nsd() {
	port=$(free_port)
	rm -rf "$tmp/nsd"
	nsd_conf "$tmp/nsd" "$port" "$top/apps/dns/zones" \
		"tcp-count: $1" "tcp-timeout: $2"
	/usr/sbin/nsd -d -c "$tmp/nsd/nsd.conf" >"$tmp/nsd.log" 2>&1 &
	nsd_master=$!
	track "$nsd_master"
	wait_dns || { cat "$tmp/nsd.log" "$tmp/nsd/nsd.log" >&2; die "nsd did not start"; }
	pid=$(pgrep -P "$(pgrep -P "$nsd_master" | head -1)" | head -1)
	[[ -n $pid ]] || die "no NSD server process under $nsd_master"
}

stop_server() {
	if [[ $1 = nsd ]]; then
		kill -TERM "$nsd_master" 2>/dev/null || true
		wait "$nsd_master" 2>/dev/null || true
	else
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

# A query that says it has 48 bytes and never gets past its header.
trickle=0030000701000001000000000000046d61696c

say "dns: $dns; nsd: $(/usr/sbin/nsd -v 2>&1 | head -1), server-count 1"
say "$n hostile TCP connections against $slots slots, $probes TCP probes each time"
results=()
for server in duet nsd; do
	"start_$server" "$slots" 10
	flood_row "$server" slow dns trickle "$n" "$trickle"
	flood_row "$server" silent dns silent "$n"
	stop_server "$server"
done

say "$ka TCP connections, one query each"
for server in duet nsd; do
	"start_$server" $((ka + 100)) 60
	idle=$(rss_kb "$pid" VmRSS)
	"${flood[@]}" 127.0.0.1 "$port" keepalive "$ka" 2 dns >"$tmp/ka" 2>&1
	peak=$(rss_kb "$pid" VmHWM)
	sleep 1
	after=$(rss_kb "$pid" VmRSS)
	results+=("$(printf '%-6s conns     %-5s %s, %s; RSS idle %s kB, peak %s kB, after %s kB' \
		"$server" "$ka" "$(sed -n 1p "$tmp/ka")" "$(sed -n 2p "$tmp/ka")" \
		"$idle" "$peak" "$after")")
	say "${results[-1]}"
	stop_server "$server"
done
printf '\n'
printf '%s\n' "${results[@]}"
