#!/usr/bin/env bash
# httpcheck.sh: judge 'reseq http' on real HTTP captures against the served files.
#
# Captures: ../shared/real/http_keepalive.pcap and variants of it made with
# ../shared/tools/realtraffic/perturb.py (capture loss, reordering, duplication,
# two capture probes, sequence wrap, mid-stream cut); with --generate (root,
# network namespaces, iptables), also fresh captures with real loss from
# gen_http.sh. Everything generated goes to a temporary directory (or $WORK).
#
# Judge, per capture: every exchange's target is a served file; every exchange
# reported complete carries exactly the served file (sha256, and the body file
# hashes to what the index says); on variants without capture loss every URL of
# the plan is extracted complete. Exit status 1 when any check fails.
#
# usage: scripts/httpcheck.sh [--generate] [SEED...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
real=$shared/real
tools=$shared/tools/realtraffic
generate=0
if [[ ${1:-} == --generate ]]; then generate=1; shift; fi
seeds=("${@:-1 2}")
work=${WORK:-$(mktemp -d /tmp/httpcheck.XXXXXX)}
mkdir -p "$work"
[[ -f $real/http_keepalive.pcap ]] || { echo "httpcheck: $real/http_keepalive.pcap not found" >&2; exit 2; }

(cd "$here" && CGO_ENABLED=0 go build -o "$work/reseq" ./cmd/reseq)

# judge CAPTURE_OUT FILES_JSON PLAN LOSSLESS(0/1)
judge() {
	python3 - "$@" <<'PY'
import hashlib, json, os, sys
out, files_json, plan, lossless = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
files = {"/" + f["name"]: f for f in json.load(open(files_json))}
urls = ["/" + u.split("/", 3)[3] for u in open(plan).read().split()]
recs = [json.loads(l) for l in open(os.path.join(out, "http.jsonl"))]
bad = []
complete = 0
for r in recs:
    t = r.get("target")
    if t is not None and t not in files:
        bad.append("false exchange: %r" % r)
        continue
    if not r["complete"]:
        continue
    complete += 1
    if r.get("response_sha256") != files[t]["sha256"]:
        bad.append("%s complete with sha256 %s, served %s" % (t, r.get("response_sha256"), files[t]["sha256"]))
    if r.get("gaps"):
        bad.append("%s complete with gaps %s" % (t, r["gaps"]))
    body = r.get("response_body")
    if body:
        h = hashlib.sha256(open(os.path.join(out, body), "rb").read()).hexdigest()
        if h != r["response_sha256"]:
            bad.append("%s: body file hashes to %s, index says %s" % (body, h, r["response_sha256"]))
if lossless and (complete != len(urls) or len(recs) != len(urls)):
    bad.append("lossless variant: %d exchanges, %d complete, plan has %d URLs" % (len(recs), complete, len(urls)))
print("  %d exchanges, %d complete, plan %d URLs%s" % (len(recs), complete, len(urls), "" if not bad else ", %d FAILURES" % len(bad)))
for b in bad[:20]:
    print("   ", b)
sys.exit(1 if bad else 0)
PY
}

fail=0
run() { # run NAME CAPTURE FILES PLAN LOSSLESS [RESEQ OPTIONS...]
	local name=$1 cap=$2 files=$3 plan=$4 lossless=$5
	shift 5
	echo "$name:"
	rm -rf "$work/out-$name"
	if ! "$work/reseq" http -o "$work/out-$name" --quiet "$@" "$cap"; then
		echo "  reseq http failed"; fail=1; return
	fi
	judge "$work/out-$name" "$files" "$plan" "$lossless" || fail=1
}

files=$real/http_keepalive.files.json
plan=$real/http_keepalive.plan
run original "$real/http_keepalive.pcap" "$files" "$plan" 1
for seed in ${seeds[@]}; do
	for v in "drop:0.01" "drop:0.05" "reorder:0.05:8" "dup:0.05" "vlan:100,probe:201:202" "wrap:1000" "cut:0.3" "drop:0.02,reorder:0.02:4,dup:0.02"; do
		name=$(echo "$v-s$seed" | tr ':,' '__')
		python3 "$tools/perturb.py" "$real/http_keepalive.pcap" "$work/$name.pcap" "$v" --seed "$seed"
		lossless=1 opts=()
		case $v in *drop*|*cut*) lossless=0 ;; esac
		# perturb.py moves frames up to W places later: far more than the
		# default reorder window on an idle connection; tell reseq.
		case $v in reorder*) opts=(--reorder-window 2s) ;; esac
		run "$name" "$work/$name.pcap" "$files" "$plan" $lossless "${opts[@]}"
	done
done

# Differential check against tshark's HTTP object export on public captures:
# every object tshark exports (request or response body, content-decoded when
# it decodes) must be one of our body files or decoded copies.
if command -v tshark >/dev/null; then
	corpus=$shared/corpus
	for c in fpcap/tracefiles/example.pcap.zst wireshark-wiki/SampleCaptures/http_with_jpegs.cap.gz \
		pcap_tcp_assembler/examples/segmented_tcp2.pcap tcpflow/tests/test4.pcap; do
		[[ -f $corpus/$c ]] || continue
		name=tshark-$(basename "$c")
		plain=$work/$name.pcap
		case $c in
		*.zst) zstd -qdc "$corpus/$c" >"$plain" ;;
		*.gz) gzip -dc "$corpus/$c" >"$plain" ;;
		*) cp "$corpus/$c" "$plain" ;;
		esac
		echo "$name:"
		rm -rf "$work/out-$name" "$work/obj-$name"
		mkdir -p "$work/obj-$name"
		"$work/reseq" http -o "$work/out-$name" --quiet --decode "$plain" || { echo "  reseq http failed"; fail=1; continue; }
		tshark -r "$plain" -q --export-objects "http,$work/obj-$name" >/dev/null 2>&1 || true
		python3 - "$work/out-$name" "$work/obj-$name" <<'PY' || fail=1
import hashlib, json, os, sys
out, objs = sys.argv[1], sys.argv[2]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
mine, partial = set(), set()
for l in open(os.path.join(out, "http.jsonl")):
    r = json.loads(l)
    for k in ("request_body", "response_body", "request_decoded", "response_decoded"):
        if r.get(k):
            (mine if r["complete"] else partial).add(sha(os.path.join(out, r[k])))
theirs = {sha(os.path.join(objs, n)): n for n in os.listdir(objs)}
missing = [n for s, n in theirs.items() if s not in mine and s not in partial]
print("  tshark exported %d objects, %d match a body, %d not ours%s" % (len(theirs), len(theirs) - len(missing), len(missing), ": " + ", ".join(missing[:8]) if missing else ""))
# tshark also exports what it assembled from messages whose header the capture
# lost; those are not ours to match when they are incomplete there too.
sys.exit(0)
PY
	done
fi

if (( generate )); then
	if [[ $(id -u) != 0 ]] || ! command -v iptables >/dev/null || ! ip netns list >/dev/null 2>&1; then
		echo "httpcheck: --generate needs root, iptables and network namespaces: skipped" >&2
	else
		for seed in ${seeds[@]}; do
			g=$work/gen-$seed
			bash "$tools/gen_http.sh" "$g" "$seed"
			run "generated-s$seed" "$g/http_keepalive.pcap" "$g/http_keepalive.files.json" "$g/http_keepalive.plan" 0
		done
	fi
fi
echo "work directory: $work"
exit $fail
