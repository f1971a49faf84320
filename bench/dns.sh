#!/usr/bin/env bash
# bench/dns.sh [DNS_IMAGE]: Duet's dns against NSD, same zones, same run.
# dnsperf (on CPU 0) loads each server (on CPU 1) in turn, alternating
# (Duet NSD Duet NSD ...) so drifts in machine speed hit both alike; prints
# medians of queries/s and average latency, and Duet's ratio to NSD.
#
# Both serve apps/dns/zones/*.zone on loopback UDP: Duet on the POSIX
# socket stack, NSD (Debian's) with one server process. Before timing, the
# script checks that the two give the same rcode, flags and answer records
# for every query in the query file.
#
# Environment:
#   BENCH_REPS=5           runs per server
#   BENCH_DURATION=8       seconds of one dnsperf run
#   BENCH_OUTSTANDING=100  dnsperf's queries in flight (-q)
#   BENCH_CLIENTS=4        dnsperf's client sockets (-c)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
dns=${1:-$top/build/posix/apps/dns/dns}
reps=${BENCH_REPS:-5}
duration=${BENCH_DURATION:-8}
outstanding=${BENCH_OUTSTANDING:-100}
clients=${BENCH_CLIENTS:-4}
zones=$top/apps/dns/zones
. "$here/lib.sh"

[[ -x $dns ]] || die "no dns image at $dns (build it: ./duet build dns)"

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
[[ -x /usr/sbin/nsd ]] || need+=(nsd)
install_peers "installing ${need[*]}" "${need[@]}"

pin_cpus
make_tmp /tmp/duet-bench-dns.XXXXXX

# A mix of what an authoritative server sees: mostly positive answers, a
# CNAME chain, some NXDOMAIN, NODATA and REFUSED.
queries=$tmp/queries.txt
cat >"$queries" <<'Q'
host1.example.com A
www.example.com A
ns1.example.com AAAA
mail.example.com A
example.com MX
example.com NS
host1.example.com AAAA
example.com SOA
www.example.org A
nope.example.com A
mail.example.com AAAA
example.net A
Q

# ------------------------------------------------------------- servers
duet_port=$(free_port)
"${server_cpu[@]}" "$dns" port="$duet_port" addr=127.0.0.1 >"$tmp/duet.log" 2>&1 &
track $!

nsd_port=$(free_port)
nsd_conf "$tmp/nsd" "$nsd_port" "$zones"
"${server_cpu[@]}" /usr/sbin/nsd -d -c "$tmp/nsd/nsd.conf" >"$tmp/nsd.log" 2>&1 &
track $!

# Both up, and answering alike: compare every query of the file.
python3 - "$top/tests/posix" "$duet_port" "$nsd_port" "$queries" <<'PY' ||
import sys, time
sys.path.insert(0, sys.argv[1])
import dns_client as c
duet, nsd, qfile = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
types = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
def answer(port, name, t):
    for _ in range(50):
        raw = c.ask("127.0.0.1", port, c.query(name, types[t]), 0.2)
        if raw is not None:
            r = c.Response(raw)
            return (r.rcode, r.aa, r.tc, sorted(map(repr, r.answer)),
                    sorted(map(repr, r.authority)) if not r.answer else None)
        time.sleep(0.1)
    sys.exit("no answer on port %d" % port)
for line in open(qfile):
    name, t = line.split()
    a, b = answer(duet, name, t), answer(nsd, name, t)
    if a != b:
        sys.exit("%s %s: Duet %r, NSD %r" % (name, t, a, b))
PY
	{ cat "$tmp/duet.log" "$tmp/nsd.log" "$tmp/nsd/nsd.log" >&2 2>/dev/null; die "the servers are not up or do not agree"; }
say "Duet and NSD give the same answers for all $(wc -l <"$queries") queries"

# ------------------------------------------------------------------ runs
# perf_run PORT SECONDS: prints "QPS AVG_LATENCY_MS LOST". A failed
# dnsperf is reported (dnsperf-failed), not fatal.
perf_run() {
	{ "${client_cpu[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$queries" -l "$2" \
		-c "$clients" -q "$outstanding" 2>&1 || true; } | awk '
		/Queries lost:/ { lost = $3 }
		/Queries per second:/ { qps = $4 }
		/Average Latency/ { lat = $4 * 1000 }
		END {
			if (qps == "") { print "0 0 dnsperf-failed"; exit }
			printf "%s %.3f %s\n", qps, lat, lost
		}'
}

say "dns: $dns, $(sed -n 's/.*dns: serving //p' "$tmp/duet.log" | head -1)"
say "nsd: $(/usr/sbin/nsd -v 2>&1 | head -1), server-count 1"
say "dnsperf: -c$clients -q$outstanding -l$duration, $reps runs per server, alternating; load: $(cut -d' ' -f1-3 /proc/loadavg)"
perf_run "$duet_port" 2 >/dev/null
perf_run "$nsd_port" 2 >/dev/null

results=$tmp/results
: >"$results"
for r in $(seq "$reps"); do
	for server in duet nsd; do
		port=$duet_port
		[[ $server = duet ]] || port=$nsd_port
		line=$(perf_run "$port" "$duration")
		say "run $r $server: $line"
		echo "$server $line $r" >>"$results"
	done
done

# The ratio is the median of each round's Duet/NSD pair: the two runs of a
# pair are seconds apart, so slow drifts of the machine cancel out.
printf '\n%-6s %12s %16s %14s\n' server "queries/s" "avg latency ms" "ratio to NSD"
for server in duet nsd; do
	qps=$(awk -v s="$server" '$1 == s { print $2 }' "$results" | median)
	lat=$(awk -v s="$server" '$1 == s { print $3 }' "$results" | median)
	ratio=
	if [[ $server = duet ]]; then
		ratio=$(awk '{ r = $NF; v[$1, r] = $2; n[r] = 1 }
			END { for (r in n) if (v["nsd", r] > 0) print v["duet", r] / v["nsd", r] }' \
			"$results" | median)
		ratio=$(printf '%.2fx' "$ratio")
	fi
	printf '%-6s %12.0f %16.3f %14s\n' "$server" "$qps" "$lat" "$ratio"
done
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -q 'dnsperf-failed' "$results"; then
	say "some runs failed:"
	grep 'dnsperf-failed' "$results" >&2
fi
