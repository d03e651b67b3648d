#!/usr/bin/env bash
# bench_pipeline.sh — BenchmarkPipeline (fuzz module) over the ../shared/bench
# captures, COUNT rounds in one run, summarised as the speed-up of reseq
# (pipeline.Run, and its serial path) over gopacket: the median of the
# per-round ratios (each round measures both in the same minute) and the
# ratio of the best times. On a shared VM the host's load (steal time, see
# vmstat's "st") moves both, and the two-goroutine run most: read the
# medians, and the steal printed at the end.
#
# The same run measures this machine's budget: "read" (copying the file into
# the process, nothing else: what any reader of the file pays) and
# "reseq-noasm" (reseq's path with an assembler that does nothing). For each
# it prints the speed-up over gopacket that a program costing only that much
# would have: gopacket/read is the ceiling for any program on this machine
# that reads the file on one goroutine.
#
# Environment: COUNT (default 6), BENCHTIME (default 10x).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
count=${COUNT:-6}
benchtime=${BENCHTIME:-10x}
out=$(mktemp)
vm=$(mktemp)
bin=$(mktemp)
trap 'rm -f "$out" "$vm" "$bin"' EXIT
if command -v vmstat >/dev/null 2>&1; then
	vmstat 2 100000 >"$vm" &
	vmpid=$!
	trap 'kill $vmpid 2>/dev/null || true; rm -f "$out" "$vm" "$bin"' EXIT
fi
# One test binary, one round per invocation: go test -count N would run each
# sub-benchmark N times in a row, so "a round" would not share the host's load.
(cd "$repo/fuzz" && go test -c -o "$bin" .)
for i in $(seq "$count"); do
	(cd "$repo/fuzz" && "$bin" -test.run '^$' -test.bench '^BenchmarkPipeline$' -test.benchtime "$benchtime" -test.count 1) |
		tee -a "$out" | grep -E '^(Benchmark|FAIL)' >&2
done
python3 - "$out" <<'PY'
import re, statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    c = re.match(r'BenchmarkPipeline/(\w+)/([\w-]+)-\d+\s.*?([\d.]+) cpu-ms/op', line)
    if c:
        cpu.setdefault((c[1], c[2]), []).append(float(c[3]))
    m = re.match(r'BenchmarkPipeline/(\w+)/([\w-]+)-\d+\s+\d+\s+(\d+) ns/op.*?(\d+) allocs/op', line)
    if m:
        runs.setdefault((m[1], m[2]), []).append((int(m[3]), int(m[4])))
for cap in sorted({c for c, _ in runs}):
    g = [t for t, _ in runs.get((cap, 'gopacket'), [])]
    if not g:
        continue
    gc = cpu.get((cap, 'gopacket'), [])
    for v in ('reseq', 'reseq-serial'):
        r = runs.get((cap, v), [])
        if not r:
            continue
        t = [x for x, _ in r]
        per = [gi / ti for gi, ti in zip(g, t)]
        line = (f"{cap:6} {v:13} median {statistics.median(t)/1e6:7.1f} ms  gopacket {statistics.median(g)/1e6:7.1f} ms  "
                f"speed-up median {statistics.median(per):4.2f}x  best/best {min(g)/min(t):4.2f}x  allocs/op {r[-1][1]}")
        c = cpu.get((cap, v), [])
        if c and gc:
            line += f"  cpu {statistics.median(c):6.1f} ms (gopacket {statistics.median(gc):6.1f})"
        print(line)
    for v in ('read', 'reseq-noasm'):
        r = runs.get((cap, v), [])
        if not r:
            continue
        t = [x for x, _ in r]
        per = [gi / ti for gi, ti in zip(g, t)]
        print(f"{cap:6} {v:13} median {statistics.median(t)/1e6:7.1f} ms  (gopacket/{v}: median {statistics.median(per):4.2f}x, "
              f"best/best {min(g)/min(t):4.2f}x; 5x gopacket is {statistics.median(g)/5e6:.1f} ms)")
PY
if [ -n "${vmpid:-}" ]; then
	kill "$vmpid" 2>/dev/null || true
	awk 'NR>2 && $17 ~ /^[0-9]+$/ {s+=$17; n++; if ($17+0>m+0) m=$17} END {if (n) printf "steal during the run: mean %.0f%%, max %d%%\n", s/n, m}' "$vm"
fi
