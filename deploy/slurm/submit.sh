#!/usr/bin/env bash
# submit.sh N OUTROOT OUT CAPTURE... — the array of N shard tasks and the
# merge that waits for all of them (afterok). MODE=split SPLITDIR=... as in
# shard.sbatch (then no CAPTURE). Prints the two job IDs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?N}
outroot=${2:?OUTROOT}
out=${3:?OUT}
shift 3
mkdir -p "$outroot"
array=$(sbatch --parsable --array=0-$((n - 1)) "$here/shard.sbatch" "$outroot" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch" "$outroot" "$out")
echo "$array ${merge%%;*}"
