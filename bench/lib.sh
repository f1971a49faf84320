# bench/lib.sh: what the bench scripts share. Sourced (after
# `set -euo pipefail`) by every bench/*.sh.

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# install_peers MESSAGE PACKAGE...: installs the comparison peers from
# Debian (through sudo when not root): only the benchmarks need them.
install_peers() {
	local msg=$1 sudo=
	shift
	[[ $# -gt 0 ]] || return 0
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	say "$msg"
	# Another apt (a second benchmark, unattended upgrades) may hold the
	# lock: wait for it rather than fail or fight.
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 \
		install -y -qq --no-install-recommends "$@" >/dev/null
}

# The machine's load: every table is read with it (a busy machine's
# numbers, ratios included, mean less). Said when a benchmark starts and
# when it ends.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# pin_cpus: sets server_cpu and client_cpu, command prefixes that keep the
# server on CPU 1 and the load generator on CPU 0 (empty on one CPU).
pin_cpus() {
	if [[ $(nproc) -ge 2 ]]; then
		server_cpu=(taskset -c 1)
		client_cpu=(taskset -c 0)
	else
		server_cpu=()
		client_cpu=()
		say "one CPU: running unpinned"
	fi
}

# make_tmp TEMPLATE: sets tmp to a new directory (mktemp -d TEMPLATE) that
# goes away on exit, after the processes given to track are killed.
tracked=()
make_tmp() {
	tmp=$(mktemp -d "$1")
	trap cleanup EXIT
	say "load average before: $(loadavg) ($(nproc) CPUs)"
}
track() { tracked+=("$1"); }
cleanup() {
	local pid
	for pid in "${tracked[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
	say "load average after: $(loadavg)"
}

# in_tap_netns TAP ADDR/LEN COMMAND...: makes a network namespace holding
# a tap TAP with the host side's ADDR (IPv4 only: router solicitations
# would only add noise), runs COMMAND (the benchmark itself, again) inside
# it with DUET_BENCH_NS set, and exits with its status. Nothing there can
# leave the machine.
in_tap_netns() {
	local tap=$1 addr=$2 ns=duetbench$$ status=0
	shift 2
	ip netns add "$ns"
	trap "ip netns del $ns 2>/dev/null || true" EXIT
	ip -n "$ns" link set lo up
	ip netns exec "$ns" ip tuntap add dev "$tap" mode tap
	ip -n "$ns" addr add "$addr" dev "$tap"
	# The largest MTU lwIP takes (DUET_ETH_MTU_MAX): host and lwIP are
	# the link's only two ends, and send 64 KiB segments.
	ip -n "$ns" link set "$tap" mtu 65517
	ip -n "$ns" link set "$tap" up
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
	DUET_BENCH_NS=$ns ip netns exec "$ns" "$@" || status=$?
	exit "$status"
}

# nsd_conf DIR PORT ZONES [LINE...]: writes DIR/nsd.conf for Debian's NSD
# serving every ZONES/*.zone on 127.0.0.1 port PORT, one server process,
# everything it keeps in DIR; each LINE is one more `server:` option.
nsd_conf() {
	local dir=$1 port=$2 zones=$3 f
	shift 3
	mkdir -p "$dir"
	{
		cat <<CONF
server:
	ip-address: 127.0.0.1
	port: $port
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$zones"
	database: ""
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	verbosity: 0
	hide-version: yes
	minimal-responses: yes
	refuse-any: yes
	# Response rate limiting (on in Debian's build, 200/s per client
	# network) would drop most of a benchmark from one address.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
CONF
		for f in "$@"; do printf '\t%s\n' "$f"; done
		printf 'remote-control:\n\tcontrol-enable: no\n'
		for f in "$zones"/*.zone; do
			printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
				"$(basename "$f" .zone)" "$f"
		done
	} >"$dir/nsd.conf"
}

# free_port: the process tests' picker (free for TCP and UDP).
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/posix/port.sh"

# raise_nofile N: the soft fd limit up to the hard one, which must be N
# at least (the floods' connections are files on both sides).
raise_nofile() {
	ulimit -S -n "$(ulimit -H -n)"
	[[ $(ulimit -n) = unlimited || $(ulimit -n) -ge $1 ]] ||
		die "the fd limit ($(ulimit -n)) is below $1"
}

# rss_kb PID FIELD: a memory figure of /proc/PID/status in kB (VmRSS,
# VmHWM: the peak).
rss_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# flood_row SERVER WHAT KIND FLOOD...: one row of the hostile-client
# benchmarks: tests/posix/flood.py with FLOOD (silent N, trickle N HEX)
# against 127.0.0.1:$port while $probes KIND (http, dns) requests probe it;
# the probe's line joins the array results.
flood_row() {
	local server=$1 what=$2 kind=$3 line
	shift 3
	line=$(python3 "$(dirname "${BASH_SOURCE[0]}")/../tests/posix/flood.py" \
		127.0.0.1 "$port" "$@" probe "$probes" "$kind" | sed -n 1p)
	results+=("$(printf '%-6s %-9s %-5s %s' "$server" "$what" "$2" "$line")")
	say "${results[-1]}"
}

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
