#!/usr/bin/env bash
# realcheck.sh — judge `reseq extract` on real kernel TCP captures with endpoint truth.
#
# For every capture in ../shared/real (relative to the repo root) that has a
# NAME.truth.jsonl, runs `reseq extract` and ../shared/tools/realtraffic/check.py on:
#   * the capture itself;
#   * variants of its Ethernet pcaps made with perturb.py (VLAN, QinQ, two probes
#     with drops, drops, reordering, duplication, seq wrap across 2^32, mid-stream
#     cut), judged with --base-from ORIGINAL;
#   * gzip/zstd/lz4/xz/bzip2 copies (reseq reads the copy, check.py the original).
# Prints each check.py summary line and a final "N passed, N failed"; exits 1 on
# any failure, 0 otherwise.
#
# Needs: go, python3, tshark, gzip, zstd, lz4, xz (xz-utils), bzip2.
# Environment: SHARED (default REPO/../shared), RESEQ_CACHE (variants and
# compressed copies are kept there between runs; default /tmp/reseq-realcheck),
# REALCHECK_ONLY (a grep -E pattern on the case labels, to run a subset).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
real=$shared/real
tools=$shared/tools/realtraffic
cache=${RESEQ_CACHE:-/tmp/reseq-realcheck}
only=${REALCHECK_ONLY:-}

if [ ! -d "$real" ] || [ ! -x "$tools/check.py" ]; then
	echo "realcheck: $real or $tools/check.py missing" >&2
	exit 1
fi
missing=
for t in go python3 tshark gzip zstd lz4 xz bzip2; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "realcheck: missing tools:$missing" >&2
	exit 1
fi

mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-realcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT

bin=$work/reseq
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./cmd/reseq) || { echo "realcheck: build failed" >&2; exit 1; }

passed=0
failed=0

# judge LABEL READ_BY_RESEQ CHECK_CAPTURE TRUTH [check.py args...]
judge() {
	local label=$1 input=$2 capture=$3 truth=$4
	shift 4
	if [ -n "$only" ] && ! echo "$label" | grep -Eq "$only"; then
		return
	fi
	local out=$work/out
	rm -rf "$out"
	local log=$work/log
	if ! "$bin" extract --quiet -o "$out" "$input" >"$log" 2>&1; then
		echo "FAIL $label: reseq extract exited $?: $(head -c 400 "$log")"
		failed=$((failed + 1))
		return
	fi
	if python3 "$tools/check.py" "$capture" "$truth" "$out" "$@" >"$log" 2>&1; then
		echo "ok   $label: $(tail -n 1 "$log")"
		passed=$((passed + 1))
	else
		echo "FAIL $label: $(tail -n 1 "$log")"
		grep '^FAIL' "$log" | head -n 5 | sed 's/^/       /'
		grep -v '^FAIL' "$log" | grep -iE 'error|traceback' | head -n 3 | sed 's/^/       /'
		failed=$((failed + 1))
	fi
}

is_ethernet_pcap() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read(24)
if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
    e = "<"
elif d[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
    e = ">"
else:
    sys.exit(1)
sys.exit(0 if struct.unpack(e + "I", d[20:24])[0] & 0x0FFFFFFF == 1 else 1)
EOF
}

variants=(
	"vlan:100"
	"qinq:10:20"
	"vlan:100,probe:201:202,drop:0.03"
	"drop:0.05"
	"reorder:0.05:8"
	"dup:0.05"
	"wrap:1000"
	"cut:0.3"
)
compressors=("gzip gz" "zstd zst" "lz4 lz4" "xz xz" "bzip2 bz2")

for truth in "$real"/*.truth.jsonl; do
	name=$(basename "$truth" .truth.jsonl)
	cap=
	for ext in pcap pcapng; do
		[ -f "$real/$name.$ext" ] && cap=$real/$name.$ext
	done
	[ -n "$cap" ] || continue
	base=$(basename "$cap")

	judge "$base" "$cap" "$cap" "$truth"

	if is_ethernet_pcap "$cap"; then
		for op in "${variants[@]}"; do
			label="$base[$op]"
			if [ -n "$only" ] && ! echo "$label" | grep -Eq "$only"; then
				continue
			fi
			v=$cache/$name.$(echo "$op" | tr ':,' '_+').pcap
			if [ ! -s "$v" ] || [ ! -s "$v.ops.json" ] || [ "$v" -ot "$cap" ]; then
				python3 "$tools/perturb.py" "$cap" "$v" "$op" >/dev/null || {
					echo "FAIL $label: perturb.py failed"
					failed=$((failed + 1))
					continue
				}
			fi
			judge "$label" "$v" "$v" "$truth" --base-from "$cap"
		done
	fi

	for c in "${compressors[@]}"; do
		set -- $c
		label="$base.$2"
		if [ -n "$only" ] && ! echo "$label" | grep -Eq "$only"; then
			continue
		fi
		z=$cache/$base.$2
		if [ ! -s "$z" ] || [ "$z" -ot "$cap" ]; then
			"$1" -c <"$cap" >"$z.tmp" && mv "$z.tmp" "$z" || {
				echo "FAIL $label: $1 failed"
				failed=$((failed + 1))
				continue
			}
		fi
		judge "$label" "$z" "$cap" "$truth"
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
