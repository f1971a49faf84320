#!/usr/bin/env bash
# Durable sets per second: Duet's log store on a file-backed disk against
# the device's own floor (bench/storage_floor: pwrite+fdatasync pairs on a
# written file) and SQLite (WAL, synchronous=FULL, one row per set, each its
# own transaction) doing the same writes, in the same run, on the same file
# system. See bench/storage.md.
#
#   bench/storage.sh PATH/TO/storage_bench PATH/TO/storage_floor
#                                                  (make bench-storage)
#
# Knobs (environment): BENCH_SIZES ("100 4096"), BENCH_SETS (2000), BENCH_REPS (5),
# BENCH_DEPTH (16: the extra group-commit run), BENCH_DIR (/var/tmp: a real
# disk; /tmp may be tmpfs, where a flush costs nothing), BENCH_IMG (64M),
# BENCH_PIN (1: every engine on CPU 1; 0: unpinned).
set -euo pipefail

bench=${1:?usage: storage.sh PATH/TO/storage_bench PATH/TO/storage_floor}
floor=${2:?usage: storage.sh PATH/TO/storage_bench PATH/TO/storage_floor}
sizes=${BENCH_SIZES:-100 4096}
sets=${BENCH_SETS:-2000}
depth=${BENCH_DEPTH:-16}
img_size=${BENCH_IMG:-64M}
base=${BENCH_DIR:-/var/tmp}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

command -v sqlite3 >/dev/null || install_peers "installing sqlite3 (Debian package)" sqlite3

# One CPU for every engine, as the other benchmarks pin their server: the
# same scheduling for the floor, the store and SQLite.
pin=()
if [[ ${BENCH_PIN:-1} != 0 ]]; then
	pin_cpus
	pin=("${server_cpu[@]}")
fi

make_tmp "$base/duet-bench-storage.XXXXXX"
work=$tmp
fs=$(df -T "$work" | awk 'NR == 2 { print $2 }')
say "working in $work ($fs); $sets sets per run; sqlite $(sqlite3 --version | cut -d' ' -f1)"
[[ $fs != tmpfs ]] || say "warning: $work is on tmpfs: flushes are free, numbers mean little"

now_ns() { date +%s%N; }

# field NAME LINE: the value of NAME=... in a result line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# counting CMD...: runs CMD, then prints "wchar=N": the bytes it handed to
# write(2)/pwrite(2) (a reaped child's I/O counts into its parent's).
counting() {
	bash -c '"$@"; echo "wchar=$(sed -n "s/^wchar: //p" /proc/$$/io)"' counting "$@"
}

# duet_run SIZE DEPTH: one result line.
duet_run() {
	local size=$1 d=$2 img=$work/duet.img line out
	rm -f "$img"
	truncate -s "$img_size" "$img"
	"$bench" --block "disk0=$img" format=1 log=warn >/dev/null
	# The format's dirty pages must not be written back during the run.
	sync
	out=$(counting "${pin[@]}" "$bench" --block "disk0=$img" log=warn sets="$sets" \
		size="$size" depth="$d" 2>&1)
	line=$(grep '^duet-logstore' <<<"$out")
	echo "$line $(grep -o 'wchar=[0-9]*' <<<"$out")"
}

sqlite_run() {
	local size=$1 db=$work/sq.db sql=$work/sq.sql t0 t1 out
	rm -f "$db" "$db-wal" "$db-shm"
	sqlite3 "$db" 'PRAGMA journal_mode=WAL; CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB);' >/dev/null
	{
		echo 'PRAGMA synchronous=FULL;'
		# One literal value, as the Duet run uses one buffer.
		blob=$(head -c "$size" /dev/urandom | od -An -v -tx1 | tr -d ' \n')
		for ((i = 0; i < sets; i++)); do
			printf "INSERT INTO kv VALUES('k%012d', X'%s');\n" "$i" "$blob"
		done
	} >"$sql"
	sync
	t0=$(now_ns)
	out=$(counting "${pin[@]}" sqlite3 "$db" <"$sql")
	t1=$(now_ns)
	local secs bytes
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	bytes=$(($(stat -c %s "$db") + $(stat -c %s "$db-wal" 2>/dev/null || echo 0)))
	echo "sqlite sets=$sets size=$size seconds=$secs" \
		"sets_per_sec=$(awk -v n="$sets" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')" \
		"file_bytes_per_set=$(awk -v b="$bytes" -v n="$sets" 'BEGIN { printf "%.1f", b / n }')" \
		"$(grep -o 'wchar=[0-9]*' <<<"$out")"
}

# floor_run SIZE: one result line (its writes are its own count: the file's
# zero fill is not the floor's work).
floor_run() {
	local out
	out=$("${pin[@]}" "$floor" "$work/floor.img" "$sets" "$1" \
		"$(numfmt --from=iec "$img_size")")
	rm -f "$work/floor.img"
	echo "$out"
}

# ratios A B: A/B for each pair of lines (the runs of one round).
ratios() { paste -d' ' <(echo "$1") <(echo "$2") | awk '{ printf "%.4f\n", $1 / $2 }'; }
ratio() { ratios "$1" "$2" | median | xargs printf '%.2f'; }

# Rounds of floor, Duet d=1, SQLite, Duet d=DEPTH, BENCH_REPS per size. The
# table shows medians (the last round's lines give the per-set columns);
# each ratio is the median of the rounds' own ratios, as runs seconds
# apart share the machine's state, which drifts (bench-notes).
reps=${BENCH_REPS:-5}
printf '\n%-8s %-16s %12s %14s %16s\n' "size" "engine" "sets/s" "bytes/set" "writes/set"
for size in $sizes; do
	f_all= d_all= s_all= g_all=
	for ((r = 0; r < reps; r++)); do
		f=$(floor_run "$size")
		d=$(duet_run "$size" 1)
		s=$(sqlite_run "$size")
		g=$(duet_run "$size" "$depth")
		f_all+="$(field sets_per_sec "$f")"$'\n'
		d_all+="$(field sets_per_sec "$d")"$'\n'
		s_all+="$(field sets_per_sec "$s")"$'\n'
		g_all+="$(field sets_per_sec "$g")"$'\n'
	done
	f_all=${f_all%$'\n'} d_all=${d_all%$'\n'} s_all=${s_all%$'\n'} g_all=${g_all%$'\n'}
	for name in floor "duet d=1" sqlite "duet d=$depth"; do
		case $name in
		floor) rates=$f_all line=$f ;;
		"duet d=1") rates=$d_all line=$d ;;
		sqlite) rates=$s_all line=$s ;;
		*) rates=$g_all line=$g ;;
		esac
		per=$(field log_bytes_per_set "$line")
		[[ -n $per ]] || per=$(field file_bytes_per_set "$line")
		if [[ $name == floor ]]; then
			per=$(field write_bytes "$line") wr=$per
		else
			wr=$(awk -v o="$(field wchar "$line")" -v n="$sets" 'BEGIN { printf "%.0f", o / n }')
		fi
		printf '%-8s %-16s %12s %14s %16s\n' "$size" "$name" "$(median <<<"$rates")" "$per" "$wr"
	done
	echo "size $size: Duet/floor = $(ratio "$d_all" "$f_all")x (one at a time)," \
		"$(ratio "$g_all" "$f_all")x ($depth in flight);" \
		"Duet/SQLite = $(ratio "$d_all" "$s_all")x (one at a time)," \
		"$(ratio "$g_all" "$s_all")x ($depth in flight, group commit)"
done
echo
echo "sets/s: median of $reps rounds of $sets durable sets each (floor, Duet d=1, SQLite, Duet d=$depth)."
echo "ratios: the median of the rounds' own ratios.${pin[*]:+ Every engine ran as: ${pin[*]}.}"
echo "floor: bench/storage_floor, pwrite+fdatasync pairs of the set's size in whole sectors, one at"
echo "  a time, on a file written full first (as the store's format leaves its image)."
echo "bytes/set: the store's growth per set (Duet: log bytes; SQLite: db + WAL file; floor: bytes written)."
echo "writes/set: bytes each process handed to write(2)/pwrite(2) per set (/proc/PID/io wchar)."
