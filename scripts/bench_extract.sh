#!/usr/bin/env bash
# bench_extract.sh — wall time, CPU time (user+sys) and peak RSS of
# `reseq extract` vs `tcpflow -r` on the decompressed ../shared/bench captures,
# each writing to a fresh output directory.
#
# Runs are interleaved (reseq, tcpflow, reseq, ...) so that both see the same
# machine load; the best wall time and the CPU time of that run are shown for
# each, with the median wall time. Peak RSS is the largest seen. Run it on an
# otherwise idle machine: under load the wall times are mostly waiting.
#
# Every run writes to a new directory and the outputs are removed only at the
# end: on ext4 without a journal (this machine's /) the kernel skips inodes
# deleted in the last minutes when it allocates one, scanning them one by one,
# so deleting each run's ~800 files before the next made file creation
# dominate both tools (up to ~1 ms per file). Outputs of one capture need
# about 2*RUNS+1 times its size. Set OUT to a tmpfs (e.g. /dev/shm) to
# compare the work without the filesystem's share.
#
# Environment: SHARED (default REPO/../shared), RUNS (default 5),
# BENCH_FILES (default: every *.pcap.zst and *.pcap in $SHARED/bench; a .zst is
# decompressed first, a .pcap is read in place), OUT (the directory the output
# directories are made in; default ${TMPDIR:-/tmp}).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
runs=${RUNS:-5}
out=${OUT:-${TMPDIR:-/tmp}}
for t in go zstd tcpflow /usr/bin/time python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench_extract: $t missing" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-bench.XXXXXX")
odir=$(mktemp -d "$out/reseq-bench-out.XXXXXX")
trap 'rm -rf "$work" "$odir"' EXIT
bin=$work/reseq
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./cmd/reseq)

files=${BENCH_FILES:-$(ls "$shared"/bench/*.pcap.zst "$shared"/bench/*.pcap 2>/dev/null || true)}
[ -n "$files" ] || { echo "bench_extract: no captures in $shared/bench" >&2; exit 1; }

# once NAME CMD... : one run of CMD into the new empty directory $odir/o
# (the previous one is renamed, kept until the end); appends
# "NAME wall cpu rss_kib" to $work/runs.
nrun=0
once() {
	local name=$1
	shift
	if [ -e "$odir/o" ]; then
		nrun=$((nrun + 1))
		mv "$odir/o" "$odir/run$nrun"
	fi
	mkdir -p "$odir/o"
	${NICE:+nice -n "$NICE"} /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >"$work/cmd.out" 2>"$work/cmd.err" || {
		echo "command failed: $*" >&2; tail -n 30 "$work/cmd.err" >&2; return 1; }
	awk -v n="$name" '{printf "%s %s %.2f %s\n", n, $1, $2+$3, $4}' "$work/time.txt" >>"$work/runs"
}

printf '%-14s %8s %8s %8s %8s %8s | %8s %8s %8s %8s | %8s %8s\n' capture size \
	reseq_s med_s cpu_s MiB tcpflow_s med_s cpu_s MiB speedup cpu_ratio
status=0
for f in $files; do
	case $f in
	*.zst)
		pcap=$work/$(basename "$f" .zst)
		zstd -q -d -c "$f" >"$pcap"
		;;
	*) pcap=$f ;;
	esac
	: >"$work/runs"
	once warm "$bin" extract --quiet -o "$odir/o/x" "$pcap" # page cache
	for _ in $(seq "$runs"); do
		once reseq "$bin" extract --quiet -o "$odir/o/x" "$pcap"
		once tcpflow tcpflow -r "$pcap" -o "$odir/o"
	done
	read -r rs rm rc rr tf tm tc tr < <(python3 - "$work/runs" <<'PY'
import sys, statistics
runs = {}
for line in open(sys.argv[1]):
    name, wall, cpu, rss = line.split()
    runs.setdefault(name, []).append((float(wall), float(cpu), int(rss)))
out = []
for name in ("reseq", "tcpflow"):
    r = runs[name]
    best = min(r)
    out += [best[0], statistics.median(x[0] for x in r), best[1], max(x[2] for x in r)]
print(*out)
PY
)
	sp=$(awk "BEGIN{printf \"%.2f\", $tf / ($rs > 0 ? $rs : 0.001)}")
	cr=$(awk "BEGIN{printf \"%.2f\", $tc / ($rc > 0 ? $rc : 0.001)}")
	printf '%-14s %8s %8.2f %8.2f %8.2f %8.1f | %8.2f %8.2f %8.2f %8.1f | %7sx %8sx\n' "$(basename "$pcap")" \
		"$(du -h "$pcap" | cut -f1)" "$rs" "$rm" "$rc" "$(awk "BEGIN{print $rr/1024}")" \
		"$tf" "$tm" "$tc" "$(awk "BEGIN{print $tr/1024}")" "$sp" "$cr"
	awk "BEGIN{exit !($sp >= 2)}" || status=1
	case $f in *.zst) rm -f "$pcap" ;; esac
done
echo "(wall and CPU in seconds: best run, median run; CPU is user+sys of the best run; output under $out)"
[ "$status" -eq 0 ] && echo "reseq >= 2x faster than tcpflow on every capture" || echo "reseq NOT >= 2x faster than tcpflow on every capture"
exit "$status"
