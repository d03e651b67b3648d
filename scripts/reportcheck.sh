#!/usr/bin/env bash
# reportcheck.sh — render `reseq report` in a real browser, and check its loss
# figures against check.py on real captures.
#
# 1. Builds reseq, writes the report of testdata/sample.pcap (and of
#    ../shared/bench/perf.pcap.zst when present), opens each in headless
#    Chromium (installed from the OS packages when absent: apt-get install
#    chromium), takes a screenshot and fails if the page logged a JavaScript
#    error or the screenshot is blank (one colour; scripts/pngcheck.py). With
#    REPORTCHECK_SHOT=PATH the sample's page is also shot at half scale
#    (1280x2300 CSS pixels to a 640x1150 PNG): the README's docs/report.png.
# 2. On ../shared/real's Ethernet pcaps and lossy variants of them (perturb.py
#    drop:0.02 / drop:0.05), runs `reseq report` and check.py, and fails
#    unless report.json's gap_bytes total equals check.py's "gap bytes".
#    Skipped when ../shared is absent.
#
# Environment: SHARED (default REPO/../shared), CHROMIUM (browser binary).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-reportcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
	done
fi
if [ -z "$browser" ]; then
	echo "reportcheck: installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq chromium >/dev/null || { echo "reportcheck: cannot install chromium" >&2; exit 1; }
	browser=chromium
fi

bin=$work/reseq
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./cmd/reseq) || { echo "reportcheck: build failed" >&2; exit 1; }

# render NAME HTML: screenshot and console check.
render() {
	local name=$1 html=$2 shot=$work/$1.png log=$work/$1.log
	# The profile directory is per run; logging to stderr shows console
	# messages ("Uncaught ..." for script errors).
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
		--window-size=1280,2200 --virtual-time-budget=3000 \
		--screenshot="$shot" "file://$html" >"$log" 2>&1
	if [ ! -s "$shot" ]; then
		fail "$name: no screenshot: $(tail -n 3 "$log")"
		return
	fi
	if grep -E 'Uncaught|CONSOLE.*(Error|error)|SyntaxError|TypeError|ReferenceError' "$log" >/dev/null; then
		fail "$name: the page logged a JavaScript error:"
		grep -E 'Uncaught|CONSOLE|Error' "$log" | head -n 5 | sed 's/^/       /'
		return
	fi
	if ! python3 "$repo/scripts/pngcheck.py" blank "$shot"; then
		fail "$name: blank screenshot"
		return
	fi
	echo "ok   $name: rendered, $(stat -c %s "$html") bytes, no script error, screenshot not blank"
}

(cd "$repo" && "$bin" report --quiet -o "$work/sample.html" testdata/sample.pcap) || fail "sample: reseq report exited $?"
render sample "$work/sample.html"
if [ -n "${REPORTCHECK_SHOT:-}" ]; then
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$work/profile" --force-device-scale-factor=0.5 \
		--window-size=1280,2300 --virtual-time-budget=3000 \
		--screenshot="$REPORTCHECK_SHOT" "file://$work/sample.html" >/dev/null 2>&1 &&
		echo "wrote $REPORTCHECK_SHOT ($(stat -c %s "$REPORTCHECK_SHOT") bytes)"
fi
if [ -f "$shared/bench/perf.pcap.zst" ]; then
	"$bin" report --quiet -o "$work/perf.html" "$shared/bench/perf.pcap.zst" || fail "perf: reseq report exited $?"
	size=$(stat -c %s "$work/perf.html")
	[ "$size" -lt $((10 << 20)) ] || fail "perf: page of $size bytes (limit 10 MB)"
	render perf "$work/perf.html"
fi

# Loss figures against check.py.
tools=$shared/tools/realtraffic
if [ -d "$shared/real" ] && [ -x "$tools/check.py" ] && command -v tshark >/dev/null 2>&1; then
	# judge LABEL CAPTURE TRUTH [check.py args...]
	judge() {
		local label=$1 cap=$2 truth=$3
		shift 3
		rm -rf "$work/out" "$work/r.html" "$work/r.json"
		if ! "$bin" report --quiet -o "$work/r.html" "$cap" >"$work/log" 2>&1; then
			fail "$label: reseq report: $(head -c 300 "$work/log")"; return
		fi
		"$bin" extract --quiet -o "$work/out" "$cap" >"$work/log" 2>&1 || { fail "$label: extract"; return; }
		python3 "$tools/check.py" "$cap" "$truth" "$work/out" "$@" >"$work/log" 2>&1
		local want got acked
		want=$(tail -n 1 "$work/log" | sed -n 's/.* \([0-9][0-9]*\) gap bytes.*/\1/p')
		got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gap_bytes"]["total"])' "$work/r.json")
		acked=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["gap_bytes"].get("acked",0), "%.3f%% bytes, %.3f%% ACKs" % (r["loss_bytes_pct"], r["loss_acks_pct"]))' "$work/r.json")
		if [ -z "$want" ]; then
			fail "$label: check.py: $(tail -n 1 "$work/log")"
		elif [ "$want" != "$got" ]; then
			fail "$label: report gap bytes $got, check.py $want"
		else
			echo "ok   $label: gap bytes $got = check.py (acked $acked)"
		fi
	}
	for cap in "$shared"/real/*.pcap "$shared"/real/*.pcapng; do
		base=${cap%.pcap*}
		truth=$base.truth.jsonl
		[ -f "$truth" ] || continue
		name=$(basename "$cap")
		judge "$name" "$cap" "$truth"
		case $name in *.pcap) ;; *) continue ;; esac
		python3 - "$cap" <<'EOF' || continue
import sys
d = open(sys.argv[1], "rb").read(24)
import struct
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
sys.exit(0 if struct.unpack(e + "I", d[20:24])[0] & 0x0FFFFFFF == 1 else 1)
EOF
		for p in 0.02 0.05; do
			v=$work/$(basename "$base")-drop$p.pcap
			python3 "$tools/perturb.py" "$cap" "$v" "drop:$p" --seed 7 >/dev/null 2>&1 || { fail "$name drop:$p: perturb.py"; continue; }
			judge "$name drop:$p" "$v" "$truth" --base-from "$cap"
		done
	done
else
	echo "../shared/real, check.py or tshark absent: loss figures not judged"
fi

if [ "$failed" -gt 0 ]; then
	echo "reportcheck: $failed failed"
	exit 1
fi
echo "reportcheck: all passed"
