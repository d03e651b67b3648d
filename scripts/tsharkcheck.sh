#!/usr/bin/env bash
# tsharkcheck.sh: reseq's stream directions against tshark's follow on every
# capture of ../shared/corpus (issue 13's differential).
#
# For each capture tshark reads, compares every stream direction tshark holds
# complete (no segment missing or cut, no two copies of a byte that differ)
# with reseq extract's file for it: same length and SHA-256, no gap. Every
# direction that differs must be listed, with its reason, in
# scripts/tsharkcheck.known; a new difference and a listed one that no longer
# occurs both fail. Prints the differences (with -v the listed ones too) and
# one summary line; exits 1 on any failure. Details in scripts/tsharkcheck.py.
#
# Needs: go, python3, tshark.
# Environment: SHARED (default REPO/../shared), RESEQ_CACHE (tshark's output
# per capture is kept there between runs; default /tmp/reseq-tsharkcheck),
# TSHARKCHECK_ONLY (a substring of the capture paths, to run a subset).
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
corpus=$shared/corpus
cache=${RESEQ_CACHE:-/tmp/reseq-tsharkcheck}

if [ ! -d "$corpus" ]; then
	echo "tsharkcheck: $corpus missing" >&2
	exit 1
fi
missing=
for t in go python3 tshark; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "tsharkcheck: missing tools:$missing" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/reseq-tsharkcheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/reseq" ./cmd/reseq) || { echo "tsharkcheck: build failed" >&2; exit 1; }

python3 "$repo/scripts/tsharkcheck.py" --reseq "$work/reseq" --corpus "$corpus" \
	--known "$repo/scripts/tsharkcheck.known" --cache "$cache" \
	--only "${TSHARKCHECK_ONLY:-}" "$@"
