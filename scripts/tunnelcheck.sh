#!/usr/bin/env bash
# tunnelcheck.sh — judge `reseq extract` on tunnelled, re-framed and fragmented
# variants of the real captures (modeled on realcheck.sh).
#
# For every capture in ../shared/real (relative to the repo root) that has a
# NAME.truth.jsonl, and every wrap spec below, makes the variant with
# internal/wrapcap/cmd/wrapcap, runs `reseq extract` on it and
# ../shared/tools/realtraffic/check.py with --base-from the original capture
# (--data-only for fragdrop variants). Prints each check.py summary line and
# a final "N passed, N failed"; exits 1 on any failure, 0 otherwise.
#
# Single lost fragments (fragdrop) are not judged here: check.py's reference
# is tshark's reassembly, which joins fragments of two datagrams that share an
# IPv4 ID (the real captures reuse IDs), so it disagrees with the truth.
# pipeline's TestFragmentLoss judges reseq on them against the bare capture.
#
# Needs: go, python3, tshark.
# Environment: SHARED (default REPO/../shared), RESEQ_CACHE (variants are kept
# there between runs; default /tmp/reseq-tunnelcheck), TUNNELCHECK_ONLY (a
# grep -E pattern on the case labels, to run a subset).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
real=$shared/real
tools=$shared/tools/realtraffic
cache=${RESEQ_CACHE:-/tmp/reseq-tunnelcheck}
only=${TUNNELCHECK_ONLY:-}

if [ ! -d "$real" ] || [ ! -x "$tools/check.py" ]; then
	echo "tunnelcheck: $real or $tools/check.py missing" >&2
	exit 1
fi
missing=
for t in go python3 tshark; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "tunnelcheck: missing tools:$missing" >&2
	exit 1
fi

# Variants are cached per version of wrapcap's sources.
stamp=$(cat "$repo"/internal/wrapcap/*.go "$repo"/internal/wrapcap/cmd/wrapcap/*.go | sha256sum | cut -c1-12)
cache=$cache/$stamp
mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-tunnelcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT

bin=$work/reseq
wrap=$work/wrapcap
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./cmd/reseq) || { echo "tunnelcheck: build of reseq failed" >&2; exit 1; }
(cd "$repo" && CGO_ENABLED=0 go build -o "$wrap" ./internal/wrapcap/cmd/wrapcap) || { echo "tunnelcheck: build of wrapcap failed" >&2; exit 1; }

passed=0
failed=0

# judge LABEL CAPTURE TRUTH EXTRACT_ARGS [check.py args...]
judge() {
	local label=$1 input=$2 truth=$3 xargs=$4
	shift 4
	local out=$work/out
	rm -rf "$out"
	local log=$work/log
	# shellcheck disable=SC2086 # xargs is a list of words
	"$bin" extract --quiet $xargs -o "$out" "$input" >"$log" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $label: reseq extract exited $rc: $(head -c 400 "$log")"
		failed=$((failed + 1))
		return
	fi
	if python3 "$tools/check.py" "$input" "$truth" "$out" "$@" >"$log" 2>&1 &&
		! tail -n 1 "$log" | grep -q ': 0 passed'; then
		echo "ok   $label: $(tail -n 1 "$log")"
		passed=$((passed + 1))
	else
		echo "FAIL $label: $(tail -n 1 "$log")$(tail -n 1 "$log" | grep -q ': 0 passed' && echo ' (nothing judged)')"
		grep '^FAIL' "$log" | head -n 5 | sed 's/^/       /'
		grep -v '^FAIL' "$log" | grep -iE 'error|traceback' | head -n 3 | sed 's/^/       /'
		failed=$((failed + 1))
	fi
}

# One per encapsulation, then fragmentation and mirror cases. llcsnap needs
# frag:1492 (802.3 carries at most 1500 bytes). Left out because check.py's
# tshark reference cannot see their TCP: ppp-pppd (link type 166, unknown to
# tshark 4.0) and mpls-pw-nocw (tshark needs -d mpls.label==N,pwethnocw;
# internal/wrapcap's tshark test covers it that way), VXLAN on Linux's port
# 8472 (tshark decodes 4789 only; pipeline's TestVXLANPort covers
# --vxlan-port). A check that judged no direction fails.
specs=(
	"mpls:100,200"
	"mpls-pw:300"
	"pppoe:4660"
	"qinq-pppoe:4660"
	"llcsnap,frag:1492"
	"gre"
	"gre-key:77"
	"gre-seq"
	"gre-csum"
	"gre-eth"
	"gre6"
	"erspan2:5"
	"erspan3:6"
	"erspan3p:7"
	"vxlan:5001"
	"vxlan6:5001"
	"geneve:5002"
	"gtpu:4097"
	"ipip"
	"6in4"
	"4in6"
	"6in6"
	"nflog"
	"ppp"
	"ppp-dir"
	"ppp-hdlc"
	"frag:576"
	"frag-rev:576"
	"frag-shuffle:576:7"
	"frag:576,drop:0.03:7"
	"vxlan:5001,outer-frag:1400"
	"6in4,frag:576"
	"mirror-vxlan:0.03:7"
	"mirror-erspan2:0.03:7"
	"mirror-erspan3:0.03:7"
)

gen_ms=0
skipped=0
for truth in "$real"/*.truth.jsonl; do
	name=$(basename "$truth" .truth.jsonl)
	cap=
	for ext in pcap pcapng; do
		[ -f "$real/$name.$ext" ] && cap=$real/$name.$ext
	done
	[ -n "$cap" ] || continue
	base=$(basename "$cap")
	# check.py takes an inner IPv6 address over IPv4 ones, so IPv4 traffic in
	# an outer IPv6 tunnel would pass vacuously: skip those combinations.
	v6cap=$(tshark -r "$cap" -n -c 20 -Y ipv6 -T fields -e ipv6.src 2>/dev/null | head -n 1)
	for spec in "${specs[@]}"; do
		label="$base[$spec]"
		if [ -n "$only" ] && ! echo "$label" | grep -Eq "$only"; then
			continue
		fi
		# tshark (check.py's reference) does not dissect TCP in an MPLS
		# pseudowire built around a LINUX_SLL2 frame, nor in an NFLOG
		# payload the snaplen cut: nothing to judge against.
		case "$base:$spec" in
		lossy_any_sll2.pcap:mpls-pw* | lossy_snap200.pcap:nflog*)
			echo "skip $label: tshark does not see this TCP"
			skipped=$((skipped + 1))
			continue
			;;
		esac
		case $spec in
		gre6* | vxlan6* | geneve6* | gtpu6* | 4in6* | 6in6* | ipip6*)
			if [ -z "$v6cap" ]; then
				echo "skip $label: IPv4 in outer IPv6 is beyond check.py's reference"
				skipped=$((skipped + 1))
				continue
			fi
			;;
		esac
		v=$cache/$name.$(echo "$spec" | tr ':,' '_+').pcap
		if [ ! -s "$v" ] || [ "$v" -ot "$cap" ]; then
			t0=$(date +%s%N)
			if ! "$wrap" "$cap" "$v" "$spec" >"$work/wlog" 2>&1; then
				echo "FAIL $label: wrapcap failed: $(head -c 400 "$work/wlog")"
				failed=$((failed + 1))
				continue
			fi
			gen_ms=$((gen_ms + ($(date +%s%N) - t0) / 1000000))
		fi
		xargs=
		case $spec in
		mirror-*) xargs="--capture-point tunnel" ;;
		esac
		set --
		case $spec in
		*fragdrop*) set -- --data-only ;;
		esac
		judge "$label" "$v" "$truth" "$xargs" --base-from "$cap" "$@"
	done
done

echo "variant generation: ${gen_ms} ms"
echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
