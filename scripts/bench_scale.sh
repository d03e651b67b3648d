#!/usr/bin/env bash
# bench_scale.sh — what sharding by flow hash costs and gains, with the built
# binary, on the ../shared/bench captures (perf and small):
#   * wall time of 'reseq extract --workers 1' and '--workers 2' (medians of
#     ROUNDS runs, alternated, and the median of each round's ratio);
#   * CPU time (user+sys) of one run against the sum over N shard processes,
#     N = 2, 4, 8, for the shard route (N x 'extract --shard i/N --workers 1',
#     each reading all input) and the split route ('split -n N' once, then N x
#     'extract' of a shard file, --workers 1). Each round measures one run
#     too, right before the routes, and the ratios are the medians of the
#     rounds' ratios: on a machine shared with other jobs the load drifts
#     between rounds far more than within one;
#   * how evenly split shared the bytes out (the largest shard file's share:
#     1/N is even, 1.00 is every frame in one shard; split routes a TCP
#     segment by its connection, so one address pair's connections spread).
# Times are bash's (milliseconds); CPU is that of the child process.
# Environment: ROUNDS (default 3), CAPS (default "perf small").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
caps=${CAPS:-perf small}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && go build -o "$tmp/reseq" ./cmd/reseq)
R=$tmp/reseq

# cpu CMD...: prints "wall cpu" in seconds.
cpu() {
	local TIMEFORMAT='%3R %3U %3S'
	{ time "$@" >/dev/null 2>&1; } 2>"$tmp/t"
	awk '{printf "%.3f %.3f\n", $1, $2+$3}' "$tmp/t"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f\n", a/b}'; }

for c in $caps; do
	zstd -dqf "$repo/../shared/bench/$c.pcap.zst" -o "$tmp/$c.pcap"
	in=$tmp/$c.pcap
	echo "== $c ($(du -h "$in" | cut -f1))"
	: >"$tmp/w1"; : >"$tmp/w2"; : >"$tmp/wr"; : >"$tmp/c1"
	for _ in $(seq "$rounds"); do
		rm -rf "$tmp/o"; set -- $(cpu "$R" extract -o "$tmp/o" --quiet --workers 1 "$in"); a=$1; echo "$1" >>"$tmp/w1"; echo "$2" >>"$tmp/c1"
		rm -rf "$tmp/o"; set -- $(cpu "$R" extract -o "$tmp/o" --quiet --workers 2 "$in"); echo "$1" >>"$tmp/w2"; ratio "$a" "$1" >>"$tmp/wr"
	done
	w1=$(median <"$tmp/w1"); w2=$(median <"$tmp/w2"); c1=$(median <"$tmp/c1")
	echo "wall --workers 1: ${w1}s  --workers 2: ${w2}s  speed-up $(median <"$tmp/wr")x (median of the rounds' ratios)"
	echo "CPU of one run (--workers 1): ${c1}s"
	for n in 2 4 8; do
		: >"$tmp/sh"; : >"$tmp/sp"; : >"$tmp/shr"; : >"$tmp/spr"
		for _ in $(seq "$rounds"); do
			rm -rf "$tmp/o"; set -- $(cpu "$R" extract -o "$tmp/o" --quiet --workers 1 "$in"); one=$2
			tot=0
			for i in $(seq 0 $((n - 1))); do
				rm -rf "$tmp/s$i"; set -- $(cpu "$R" extract -o "$tmp/s$i" --quiet --workers 1 --shard "$i/$n" "$in"); tot=$(awk -v a="$tot" -v b="$2" 'BEGIN{print a+b}')
			done
			echo "$tot" >>"$tmp/sh"; ratio "$tot" "$one" >>"$tmp/shr"
			rm -rf "$tmp/split"; set -- $(cpu "$R" split -n "$n" -o "$tmp/split" "$in"); tot=$2
			for f in "$tmp"/split/shard-*.pcapng; do
				rm -rf "$tmp/x"; set -- $(cpu "$R" extract -o "$tmp/x" --quiet --workers 1 "$f"); tot=$(awk -v a="$tot" -v b="$2" 'BEGIN{print a+b}')
			done
			echo "$tot" >>"$tmp/sp"; ratio "$tot" "$one" >>"$tmp/spr"
			big=$(stat -c %s "$tmp"/split/shard-*.pcapng | sort -g | tail -1)
			all=$(stat -c %s "$tmp"/split/shard-*.pcapng | awk '{s += $1} END {print s}')
		done
		echo "N=$n  shard route CPU $(median <"$tmp/sh")s ($(median <"$tmp/shr")x)  split route CPU $(median <"$tmp/sp")s ($(median <"$tmp/spr")x, largest shard $(ratio "$big" "$all") of the bytes)"
	done
done
