#!/usr/bin/env bash
# bench/record.sh [HTTPD_IMAGE]: what recording costs (core/REPLAY.md).
# httpd on lwIP over a tap, in a network namespace of its own (root), is
# loaded by wrk with and without record=FILE, alternating (A B A B ...) so
# drifts in machine speed hit both alike; prints the median req/s of each,
# their ratio, and the log's bytes per request.
#
# Environment:
#   BENCH_REPS=5          runs of each
#   BENCH_DURATION=8s     length of one wrk run
#   BENCH_CONNS=16        wrk connections (one thread)
#   BENCH_SIZE=1k         the file fetched (httpd's synthetic=)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
httpd=${1:-$here/../build/posix/apps/httpd/httpd}
reps=${BENCH_REPS:-5}
duration=${BENCH_DURATION:-8s}
conns=${BENCH_CONNS:-16}
size=${BENCH_SIZE:-1k}
. "$here/lib.sh"

[[ -x $httpd ]] || die "no httpd image at $httpd (build it: ./duet build httpd)"
[[ $(id -u) -eq 0 ]] || die "recording needs lwIP over a tap: run as root"
command -v wrk >/dev/null || install_peers "installing wrk" wrk
command -v curl >/dev/null || install_peers "installing curl" curl

[[ -n ${DUET_BENCH_NS:-} ]] || in_tap_netns drtap0 10.77.51.1/24 "${BASH_SOURCE[0]}" "$@"

pin_cpus
make_tmp /tmp/duet-bench-record.XXXXXX
url=http://10.77.51.2/$size

# one MODE: one wrk run against a fresh httpd, plain or recording; prints
# "REQ_PER_SEC REQUESTS LOG_BYTES".
one() {
	local extra=() log=$tmp/run.rr pid out
	rm -f "$log"
	[[ $1 == record ]] && extra=(record="$log" record_max=8G)
	"${server_cpu[@]}" "$httpd" --net net0=tap:drtap0 ip=10.77.51.2/24 port=80 \
		access_log=off synthetic="$size" "${extra[@]}" >"$tmp/httpd.log" 2>&1 &
	pid=$!
	track "$pid"
	for _ in $(seq 100); do
		curl -sf -o /dev/null --max-time 1 "$url" && break
		sleep 0.1
	done
	out=$("${client_cpu[@]}" wrk -t1 -c"$conns" -d"$duration" "$url" 2>&1 || true)
	kill "$pid"
	wait "$pid" || true
	awk -v bytes="$( [[ -f $log ]] && stat -c %s "$log" || echo 0)" '
		/requests in/ { n = $1 }
		/Requests\/sec/ { r = $2 }
		END { print (r == "" ? 0 : r), (n == "" ? 0 : n), bytes }' <<<"$out"
}

say "wrk: -t1 -c$conns -d$duration /$size, $reps runs each, alternating"
for i in $(seq "$reps"); do
	for mode in plain record; do
		line="$mode $(one "$mode")"
		echo "$line" >>"$tmp/results"
		say "$line"
	done
done
awk '
	{ rps[$1, ++n[$1]] = $2; reqs[$1] += $3; bytes[$1] += $4 }
	function median(k,   i, j, t, c, a) {
		c = n[k]
		for (i = 1; i <= c; i++) a[i] = rps[k, i]
		for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		p = median("plain"); r = median("record")
		printf "%-8s %12s\n", "httpd", "req/s (median)"
		printf "%-8s %12.0f\n", "plain", p
		printf "%-8s %12.0f\n", "record", r
		printf "recording keeps %.2f of the plain rate; the log takes %.0f bytes per request\n",
			r / p, bytes["record"] / reqs["record"]
	}' "$tmp/results"
