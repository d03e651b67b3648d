#!/usr/bin/env bash
# slurmcheck.sh — the deploy/slurm job array on a real Slurm: a one-node
# cluster on this machine (slurm-wlm and munge from the OS packages when
# absent; run as root), the array of N = 4 shard tasks over the bench capture
# (small by default: CAP=perf for the other), the merge as a job that depends
# on it (afterok), and the merged directory compared with one run's:
# identical, or it fails. Both routes: --shard (MODE=shard) and split
# (MODE=split). Stops the daemons it started.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cap=${CAP:-small}
n=4
if [ "$(id -u)" != 0 ]; then echo "slurmcheck: needs root (daemons, packages)"; exit 1; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq slurm-wlm munge >/dev/null
fi
tmp=$(mktemp -d /tmp/slurmcheck.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$repo" && go build -o "$tmp/reseq" ./cmd/reseq)
zstd -dqf "$repo/../shared/bench/$cap.pcap.zst" -o "$tmp/in.pcap"

# munge: this machine's own daemon and key when running, else ours.
if ! munge -n </dev/null >/dev/null 2>&1; then
	mkdir -p "$tmp/munge" /run/munge
	dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
	chmod 400 "$tmp/munge/munge.key"
	munged --force --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
		--log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/seed" --socket=/run/munge/munge.socket.2
	for _ in $(seq 50); do [ -s "$tmp/munge/munged.pid" ] && break; sleep 0.1; done
	pids+=("$(cat "$tmp/munge/munged.pid")")
	munge -n </dev/null >/dev/null
fi

host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=reseqcheck
SlurmctldHost=$host
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
slurmctld -i -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$tmp/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$tmp/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N "$host"
for _ in $(seq 100); do [ -s "$tmp/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$tmp/slurmd.pid")")
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc' && break; sleep 0.2; done
sinfo

"$tmp/reseq" extract -o "$tmp/one" --quiet "$tmp/in.pcap"
"$tmp/reseq" split -n "$n" -o "$tmp/split" "$tmp/in.pcap"
export RESEQ=$tmp/reseq
fail=0
for mode in shard split; do
	cd "$tmp"
	ids=$(MODE=$mode SPLITDIR=$tmp/split "$repo/deploy/slurm/submit.sh" "$n" "$tmp/out-$mode" "$tmp/merged-$mode" "$tmp/in.pcap")
	merge=${ids#* }
	echo "$mode: jobs $ids"
	for _ in $(seq 900); do
		st=$(squeue -h -j "$merge" -o '%T %r' 2>/dev/null || true)
		[ -z "$st" ] && break
		case $st in *DependencyNeverSatisfied*) echo "$mode: a shard task failed"; cat "$tmp"/reseq-shard-*.out; exit 1 ;; esac
		sleep 0.2
	done
	if diff -r "$tmp/one" "$tmp/merged-$mode" >/dev/null; then
		echo "$mode: merged output identical to one run ($(wc -l <"$tmp/one/flows.jsonl") index records)"
	else
		echo "$mode: merged output DIFFERS from one run"
		diff -r "$tmp/one" "$tmp/merged-$mode" | head
		fail=1
	fi
done
exit $fail
