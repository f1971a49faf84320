#!/usr/bin/env bash
# Redis clients' numbers: kv (its log store on a file-backed disk) against
# redis-server with every write made durable before its reply
# (appendonly yes, appendfsync always), in the same run, on the same file
# system: redis-benchmark SET and GET, 50 clients, pipelines of 1 and 16.
# Ratios are kv / redis-server requests per second (higher is better for
# kv). One server at a time, pinned apart from the load generator.
#
#   bench/kv.sh PATH/TO/kv         (make bench-kv, ./duet bench kv)
#
# Knobs (environment): BENCH_REQUESTS (100000), BENCH_CLIENTS (50),
# BENCH_REPS (3, medians), BENCH_DIR (/var/tmp: a real disk; on tmpfs a
# flush is free and the durable numbers mean nothing).
set -euo pipefail

kv=${1:?usage: kv.sh PATH/TO/kv}
requests=${BENCH_REQUESTS:-100000}
clients=${BENCH_CLIENTS:-50}
reps=${BENCH_REPS:-3}
base=${BENCH_DIR:-/var/tmp}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
	install_peers "installing redis-server and redis-tools (Debian packages)" \
		redis-server redis-tools

make_tmp "$base/duet-bench-kv.XXXXXX"
fs=$(df -T "$tmp" | awk 'NR == 2 { print $2 }')
pin_cpus
say "working in $tmp ($fs); $requests requests, $clients clients; $(redis-server --version | cut -d' ' -f3)"
[[ $fs != tmpfs ]] || say "warning: $tmp is on tmpfs: flushes are free, numbers mean little"

port=$(free_port)
srv=

start_kv() {
	rm -f "$tmp/kv.img"
	truncate -s 1G "$tmp/kv.img"
	"${server_cpu[@]}" "$kv" --block disk0="$tmp/kv.img" port="$port" \
		addr=127.0.0.1 max_conns=1024 >"$tmp/kv.log" 2>&1 &
	srv=$!
	track "$srv"
}

start_redis() {
	rm -rf "$tmp/redis"
	mkdir -p "$tmp/redis"
	"${server_cpu[@]}" redis-server --port "$port" --bind 127.0.0.1 \
		--dir "$tmp/redis" --save '' --appendonly yes \
		--appendfsync always --daemonize no >"$tmp/redis.log" 2>&1 &
	srv=$!
	track "$srv"
}

ready() {
	for _ in $(seq 100); do
		[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && return 0
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.1
	done
	die "the server did not start: $(tail -3 "$tmp"/*.log)"
}

stop() {
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
}

# rps TEST PIPELINE: requests per second of one redis-benchmark run.
rps() {
	"${client_cpu[@]}" redis-benchmark -p "$port" -t "$1" -n "$requests" \
		-c "$clients" -P "$2" -r 100000 -d 100 --csv 2>/dev/null |
		awk -F'"' -v t="${1^^}" '$2 == t { print $4 }'
}

printf '%-12s %14s %16s %8s\n' test kv redis-server ratio
for test in set get; do
	for p in 1 16; do
		k=() r=()
		for _ in $(seq "$reps"); do
			start_kv; ready
			[[ $test == get ]] && rps set "$p" >/dev/null
			k+=("$(rps "$test" "$p")")
			stop
			start_redis; ready
			[[ $test == get ]] && rps set "$p" >/dev/null
			r+=("$(rps "$test" "$p")")
			stop
		done
		km=$(printf '%s\n' "${k[@]}" | median)
		rm=$(printf '%s\n' "${r[@]}" | median)
		printf '%-12s %14.0f %16.0f %7.2fx\n' "${test^^} -P$p" "$km" "$rm" \
			"$(awk -v a="$km" -v b="$rm" 'BEGIN { print a / b }')"
	done
done
say "SET is durable on both (kv: log store, group commit; redis: appendfsync always)"
