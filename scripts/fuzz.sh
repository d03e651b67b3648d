#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (all three modules of go.work),
# one after another, MINUTES each (default 1), and reports per target the
# executions, the new interesting inputs and the findings. Not run by CI.
#
#   scripts/fuzz.sh          # a minute per target
#   scripts/fuzz.sh 60       # an hour per target
#   FUZZ_MATCH=Assembler scripts/fuzz.sh 10   # only targets whose name matches
#
# Corpus: 'go test -fuzz' writes a failing input to the package's
# testdata/fuzz/NAME/ itself (keep it: it is the regression test). Inputs that
# only raise coverage stay in $(go env GOCACHE)/fuzz/IMPORTPATH/NAME/; this
# script copies those new in this run and at most FUZZ_KEEP_BYTES (default
# 2048) bytes long, the FUZZ_KEEP (default 16) smallest of them, into
# testdata/fuzz/NAME/ so they become seed inputs of the plain 'go test' run.
# Review them with 'git status' before committing.
#
# Exit status: 0 when no target found anything, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-1}
case $minutes in '' | *[!0-9]*) echo "usage: $0 [MINUTES]" >&2; exit 2 ;; esac
fuzztime=${FUZZ_TIME:-${minutes}m} # FUZZ_TIME=30s: a Go duration instead
keep=${FUZZ_KEEP:-16}
keep_bytes=${FUZZ_KEEP_BYTES:-2048}
match=${FUZZ_MATCH:-.}
cache="$(go env GOCACHE)/fuzz"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

summary=()
found=0
for pkg in $(go list ./... ./cmd/... ./fuzz/...); do
  names=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
  [ -n "$names" ] || continue
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for name in $names; do
    echo "$name" | grep -Eq -- "$match" || continue
    echo "=== $pkg $name ($fuzztime)"
    cdir="$cache/$pkg/$name"
    before=$(mktemp)
    ls "$cdir" 2>/dev/null | sort >"$before"
    (cd "$dir" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" .) 2>&1 | tee "$log" | grep -E '^(fuzz: elapsed: .*(execs|new interesting)|--- FAIL|    Failing input|ok|FAIL)' | tail -n 3
    status=${PIPESTATUS[0]}
    execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
    # Coverage-raising inputs new in this run, smallest first.
    kept=0
    if [ -d "$cdir" ]; then
      mkdir -p "$dir/testdata/fuzz/$name"
      for f in $(comm -13 "$before" <(ls "$cdir" | sort)); do
        size=$(wc -c <"$cdir/$f")
        [ "$size" -le "$keep_bytes" ] && echo "$size $f"
      done | sort -n | head -n "$keep" | while read -r _ f; do
        [ -e "$dir/testdata/fuzz/$name/$f" ] || cp "$cdir/$f" "$dir/testdata/fuzz/$name/$f"
      done
      kept=$(comm -13 "$before" <(ls "$cdir" | sort) | while read -r f; do
        [ -e "$dir/testdata/fuzz/$name/$f" ] && echo "$f"
      done | wc -l)
      rmdir "$dir/testdata/fuzz/$name" 2>/dev/null || true
    fi
    rm -f "$before"
    finding="none"
    if [ "$status" -ne 0 ]; then
      found=1
      finding=$(grep -Eo 'testdata/fuzz/[^ ]+' "$log" | head -n 1)
      finding=${finding:-"failed (see output above)"}
    fi
    summary+=("$(printf '%-28s %-40s %14s %6s  %s' "$name" "${pkg#github.com/reseq/reseq}" "$execs" "$kept" "$finding")")
  done
done

echo
printf '%-28s %-40s %14s %6s  %s\n' target package execs kept finding
for s in "${summary[@]}"; do echo "$s"; done
exit $found
