#!/usr/bin/env bash
# bench_tunnel.sh — BenchmarkTunnel (fuzz module): the ../shared/bench captures
# bare, wrapped in VXLAN, and with every IPv4 packet fragmented to 576 bytes,
# through the whole path. COUNT rounds, one invocation each (so a round's
# variants share the host's load); prints per variant the median of the
# per-round ratios of wall time and CPU time to the bare capture's, and the
# peak bytes IP reassembly held.
#
# Environment: COUNT (default 5), BENCHTIME (default 5x).
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
