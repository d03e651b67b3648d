#!/usr/bin/env bash
# bench_extract.sh — wall time and peak RSS of `reseq extract` vs `tcpflow -r`
# on the decompressed ../shared/bench captures, each writing to a fresh temp dir.
#
# Uses hyperfine when installed; otherwise the best of RUNS (default 3) runs
# under /usr/bin/time -v. Peak RSS always comes from /usr/bin/time -v.
# Run it on an otherwise idle machine: the numbers are meaningless under load.
#
# Environment: SHARED (default REPO/../shared), RUNS (default 3),
# BENCH_FILES (default: every *.pcap.zst and *.pcap in $SHARED/bench).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
runs=${RUNS:-3}
for t in go zstd tcpflow /usr/bin/time; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench_extract: $t missing" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin=$work/reseq
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./cmd/reseq)

files=${BENCH_FILES:-$(ls "$shared"/bench/*.pcap.zst "$shared"/bench/*.pcap 2>/dev/null || true)}
[ -n "$files" ] || { echo "bench_extract: no captures in $shared/bench" >&2; exit 1; }

# measure NAME CMD... : prints "best wall seconds" and "peak RSS KiB" of CMD;
# the command's output dir $work/o is emptied before each run.
measure() {
	local best= rss=0 i
	for i in $(seq "$runs"); do
		rm -rf "$work/o" && mkdir -p "$work/o"
		/usr/bin/time -v "$@" >"$work/cmd.out" 2>"$work/time.txt" || {
			echo "command failed: $*" >&2; tail -n 30 "$work/time.txt" >&2; return 1; }
		local w r
		w=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$work/time.txt")
		r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
		if [ -z "$best" ] || awk "BEGIN{exit !($w < $best)}"; then best=$w; fi
		if [ "$r" -gt "$rss" ]; then rss=$r; fi
	done
	echo "$best $rss"
}

printf '%-14s %10s %12s %12s %12s %12s %8s\n' capture size reseq_s reseq_MiB tcpflow_s tcpflow_MiB speedup
status=0
for f in $files; do
	pcap=$work/$(basename "$f" .zst)
	case $f in
	*.zst) zstd -q -d -c "$f" >"$pcap" ;;
	*) cp "$f" "$pcap" ;;
	esac
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -w 1 -r "$runs" -N --export-json "$work/h.json" \
			--prepare "rm -rf $work/o" "$bin extract --quiet -o $work/o $pcap" \
			--prepare "rm -rf $work/o; mkdir -p $work/o" "tcpflow -r $pcap -o $work/o" >&2
		read -r rs tf < <(python3 -c "import json;r=json.load(open('$work/h.json'))['results'];print(min(r[0]['times']),min(r[1]['times']))")
		read -r _ rr < <(runs=1 measure "$bin" extract --quiet -o "$work/o" "$pcap")
		rm -rf "$work/o"; mkdir -p "$work/o"
		read -r _ tr < <(runs=1 measure tcpflow -r "$pcap" -o "$work/o")
	else
		read -r rs rr < <(measure "$bin" extract --quiet --force -o "$work/o" "$pcap")
		read -r tf tr < <(measure tcpflow -r "$pcap" -o "$work/o")
	fi
	sp=$(awk "BEGIN{printf \"%.2f\", $tf / ($rs > 0 ? $rs : 0.001)}")
	printf '%-14s %10s %12s %12.1f %12s %12.1f %8sx\n' "$(basename "$pcap")" "$(du -h "$pcap" | cut -f1)" "$rs" "$(awk "BEGIN{print $rr/1024}")" "$tf" "$(awk "BEGIN{print $tr/1024}")" "$sp"
	awk "BEGIN{exit !($sp >= 2)}" || status=1
	rm -f "$pcap"
done
[ "$status" -eq 0 ] && echo "reseq >= 2x faster than tcpflow on every capture" || echo "reseq NOT >= 2x faster than tcpflow on every capture"
exit "$status"
