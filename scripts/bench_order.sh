#!/usr/bin/env bash
# bench_order.sh — the tcpasm targets on arrival order, COUNT rounds in one
# run: one stream of 10-byte segments delivered in order (n = 10k) and in
# random order (n = 10k and 100k), all but the last segment held above a
# hole. Printed: the per-round ratios, random/in-order at n = 10k (target
# <= 4) and random n = 100k / n = 10k per segment (no super-linear path,
# target <= 1.5), and their medians. Each round runs the three benchmarks
# back to back, so a round's ratios share the host's load.
#
# Environment: COUNT (default 8), BENCHTIME (default 1s).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
count=${COUNT:-8}
benchtime=${BENCHTIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq "$count"); do
	for b in 'InOrder/size=10/n=10k' 'RandomOrder'; do
		(cd "$repo/tcpasm" && go test -run '^$' -bench "$b" -benchtime "$benchtime" -count 1 -benchmem .) |
			grep -E '^Benchmark' | tee -a "$out" >&2
	done
done
python3 - "$out" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'Benchmark(\S+?)-\d+\s.*?([\d.]+) ns/segment', line)
    if m:
        rows.setdefault(m[1], []).append(float(m[2]))
io, r10, r100 = rows.get('InOrder/size=10/n=10k', []), rows.get('RandomOrder/n=10k', []), rows.get('RandomOrder/n=100k', [])
k = min(len(io), len(r10), len(r100))
if k == 0:
    sys.exit("no results")
ro = [r10[i] / io[i] for i in range(k)]
gr = [r100[i] / r10[i] for i in range(k)]
for i in range(k):
    print(f"round {i+1}: in-order {io[i]:6.1f}  random 10k {r10[i]:6.1f}  100k {r100[i]:6.1f} ns/segment  "
          f"random/in-order {ro[i]:4.2f}x  100k/10k {gr[i]:4.2f}x")
print(f"median: in-order {statistics.median(io[:k]):.1f}  random 10k {statistics.median(r10[:k]):.1f}  "
      f"100k {statistics.median(r100[:k]):.1f} ns/segment; random/in-order {statistics.median(ro):.2f}x (target <= 4), "
      f"100k/10k {statistics.median(gr):.2f}x (target <= 1.5)")
PY
