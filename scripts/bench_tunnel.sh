#!/usr/bin/env bash
# bench_tunnel.sh — BenchmarkTunnel (fuzz module): the ../shared/bench captures
# bare, wrapped in VXLAN, and with every IPv4 packet fragmented to 576 bytes,
# through the whole path. COUNT rounds, one invocation each (so a round's
# variants share the host's load); prints per variant the median of the
# per-round ratios of wall time and CPU time to the bare capture's, and the
# peak bytes IP reassembly held.
#
# With CLI=1 it then times `reseq extract` itself on the same files (the
# variants the benchmark made beside the decompressed captures), COUNT
# rounds, each round every variant once, writing to a fresh directory under
# OUT (default /dev/shm: the filesystem's share, the same for every variant,
# stays out of the ratios); it prints the median of the per-round ratios of
# wall and CPU (user+sys) time to the bare capture's, and the peak RSS.
#
# Environment: COUNT (default 5), BENCHTIME (default 5x), CLI, OUT.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
count=${COUNT:-5}
benchtime=${BENCHTIME:-5x}
out=$(mktemp)
bin=$(mktemp)
trap 'rm -f "$out" "$bin"' EXIT
(cd "$repo/fuzz" && go test -c -o "$bin" .)
for i in $(seq "$count"); do
	(cd "$repo/fuzz" && "$bin" -test.run '^$' -test.bench '^BenchmarkTunnel$' -test.benchtime "$benchtime" -test.count 1) |
		tee -a "$out" | grep -E '^(Benchmark|FAIL)' >&2
done
python3 - "$out" <<'PY'
import re, statistics, sys
rounds = {}  # (cap, variant) -> [(ns, cpu, fragMiB)]
for line in open(sys.argv[1]):
    m = re.match(r'BenchmarkTunnel/(\w+)/([\w-]+)-\d+\s+\d+\s+(\d+) ns/op.*?([\d.]+) cpu-ms/op.*?([\d.]+) frag-peak-MiB', line)
    if m:
        rounds.setdefault((m[1], m[2]), []).append((int(m[3]), float(m[4]), float(m[5])))
for cap in sorted({c for c, _ in rounds}):
    bare = rounds.get((cap, 'bare'), [])
    for v in ('bare', 'vxlan', 'frag576'):
        r = rounds.get((cap, v), [])
        if not r or not bare:
            continue
        wall = [x[0] / b[0] for x, b in zip(r, bare)]
        cpu = [x[1] / b[1] for x, b in zip(r, bare)]
        print(f"{cap:6} {v:8} median {statistics.median([x[0] for x in r])/1e6:7.1f} ms  cpu {statistics.median([x[1] for x in r]):7.1f} ms  "
              f"wall/bare {statistics.median(wall):4.2f}x  cpu/bare {statistics.median(cpu):4.2f}x  frag peak {max(x[2] for x in r):.2f} MiB")
PY

[ "${CLI:-}" = 1 ] || exit 0
dir=${TMPDIR:-/tmp}/reseq-bench
outdir=$(mktemp -d "${OUT:-/dev/shm}/reseq-bench-tunnel.XXXXXX")
cli=$(mktemp)
times=$(mktemp)
trap 'rm -rf "$out" "$bin" "$cli" "$times" "$outdir"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$cli" ./cmd/reseq)
for i in $(seq "$count"); do
	for cap in perf small; do
		# variant:suffix, the names BenchmarkTunnel gave the files
		for vs in bare: vxlan:.vxlan_5001 frag576:.frag_576; do
			v=${vs%%:*} f=$dir/$cap${vs#*:}.pcap
			[ -e "$f" ] || continue
			rm -rf "$outdir/o"
			mkdir -p "$outdir/o"
			/usr/bin/time -f "$i $cap $v %e %U %S %M" -a -o "$times" "$cli" extract --quiet -o "$outdir/o/x" "$f"
		done
	done
done
python3 - "$times" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    i, cap, v, wall, u, s, rss = line.split()
    runs.setdefault((cap, v), {})[i] = (float(wall), float(u) + float(s), int(rss))
print("reseq extract:")
for cap in ("perf", "small"):
    bare = runs.get((cap, "bare"), {})
    for v in ("bare", "vxlan", "frag576"):
        r = runs.get((cap, v), {})
        ks = [k for k in r if k in bare]
        if not ks:
            continue
        wall = statistics.median(r[k][0] / bare[k][0] for k in ks)
        cpu = statistics.median(r[k][1] / bare[k][1] for k in ks)
        print(f"{cap:6} {v:8} median {statistics.median(r[k][0] for k in ks):6.2f} s  cpu {statistics.median(r[k][1] for k in ks):6.2f} s  "
              f"wall/bare {wall:4.2f}x  cpu/bare {cpu:4.2f}x  peak RSS {max(r[k][2] for k in ks)/1024:.0f} MiB")
PY
