#!/usr/bin/env bash
# A real test of "bench slurm" on a real scheduler: installs Debian's
# slurm-wlm and munge if they are missing, starts a one-node Slurm cluster
# on this machine (munged with a fresh key, slurmctld and slurmd from a
# generated slurm.conf, everything under a temporary directory, private
# ports), and
#   1. submits the quick MNIST suite (mnist-fig8 --quick) as a job array
#      with its dependent report job, and checks that every run's record
#      is there and bit-identical to the same runs made locally;
#   2. submits a run long enough to be stopped half-way (testdata/long.json),
#      requeues its task while it runs (Slurm cancels it, SIGTERM: the run
#      writes its checkpoint) and checks that the task resumed from its
#      checkpoint (the record's resumed_at) and ended bit-identical to an
#      uninterrupted local run;
#   3. sends a running task the signal that announces its time limit
#      (USR1) and checks that it checkpointed, requeued itself and resumed.
# The daemons are stopped by their process ids at the end.
#
# Usage: bench/slurm/test-cluster.sh [LOCAL_DIR]
# LOCAL_DIR: a finished local "bench sweep --suite mnist-fig8 --quick" with
# one kernel thread per run (CI's smoke sweep) to compare with; without it
# the script makes one. Needs root (to install packages and run slurmd);
# without root, or where the packages cannot be installed, it says so and
# skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:-}

skip() { echo "SKIPPED: Slurm cluster test: $*"; exit 0; }
say() { echo "-- $(date -u +%T) $*"; }

if [ "$(id -u)" != 0 ]; then
  skip "needs root to install slurm-wlm and munge and to run slurmd"
fi
need() { command -v sbatch && command -v slurmctld && command -v slurmd && command -v munged; }
if ! need >/dev/null 2>&1; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge) >/dev/null 2>&1 || true
  fi
  need >/dev/null 2>&1 || skip "slurm-wlm and munge could not be installed with apt-get"
fi

T=$(mktemp -d /tmp/spad-slurm.XXXXXX)
chmod 755 "$T" # munged wants its socket's directories searchable by all
mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 755 "$T/munge"
cleanup() {
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$T/slurmctld.pid" ]; then
    scancel --quiet --user="$(id -un)" 2>/dev/null
    for _ in $(seq 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  local ds=()
  for f in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/munged.pid"; do
    [ -s "$f" ] && ds+=("$(cat "$f")")
  done
  for p in "${ds[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 50); do
    alive=0
    for p in "${ds[@]}"; do [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  if [ "${keep:-0}" = 0 ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  for f in "$T"/slurmctld.log "$T"/slurmd.log; do echo "== $f"; tail -20 "$f" 2>/dev/null; done
  keep=1
  exit 1
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

say "building bench"
go build -o "$T/bench" ./cmd/bench
bench=$T/bench

say "starting munged"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" \
  || fail "munged did not start: $(tail -1 "$T/munge/munged.log")"

host=$(hostname -s)
ctld_port=$(free_port)
d_port=$(free_port)
cat >"$T/slurm.conf" <<EOF
ClusterName=spadtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket,cred_expire=10
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=30
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
say "starting slurmctld and slurmd (ports $ctld_port, $d_port)"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 60); do
  grep -q '^idle' <<<"$(sinfo -h -o %T 2>/dev/null)" && break
  sleep 0.5
done
grep -q '^idle' <<<"$(sinfo -h -o %T 2>/dev/null)" || fail "the node did not become idle: $(sinfo 2>&1)"
say "cluster up: $(sinfo -h -o '%P %D %T %c' | sed -n 1p)"

# wait_gone JOBIDS SECONDS: until none of the jobs is pending or running.
wait_gone() {
  local t=0
  while [ -n "$(squeue -h -j "$1" -t PD,R,CG,S,CF 2>/dev/null)" ]; do
    sleep 1; t=$((t + 1))
    [ "$t" -lt "$2" ] || { squeue -j "$1"; fail "jobs $1 still queued after $2 s"; }
  done
}

# 1. The quick MNIST suite as an array, against the same runs made locally.
if [ -z "$ref" ]; then
  say "local reference: bench sweep --suite mnist-fig8 --quick (one thread per run)"
  ref=$T/local
  # --jobs = cores: one kernel thread per run, as the cluster's tasks.
  "$bench" sweep --suite mnist-fig8 --quick --no-download --jobs "$(nproc)" --out "$ref" --report=false >/dev/null
fi
say "submitting mnist-fig8 --quick as a job array"
sub=$("$bench" slurm --suite mnist-fig8 --quick --no-download --out "$T/cluster" \
  --cpus 1 --max-parallel 2 --time 00:10:00 --grace 60 --submit)
echo "$sub"
array=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\1/p' <<<"$sub")
report=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\2/p' <<<"$sub")
[ -n "$array" ] && [ -n "$report" ] || fail "no job ids in: $sub"
wait_gone "$array,$report" 150
grep -q '^18 finished, 0 partial, 0 missing$' <<<"$("$bench" status --in "$T/cluster" | tail -1)" \
  || { "$bench" status --in "$T/cluster"; cat "$T"/cluster/logs/slurm-*.out | tail -30; fail "not every run finished"; }
[ "$(ls "$T/cluster/runs/"*.json | wc -l)" = 18 ] || fail "$(ls "$T/cluster/runs/" | wc -l) record files, want 18"
"$bench" compare --in "$T/cluster" --against "$ref" | tail -3 || fail "cluster and local runs differ"
for f in summary.csv summary.md fig8.png curves.png; do
  [ -s "$T/cluster/$f" ] || fail "the report job wrote no $f: $(cat "$T"/cluster/logs/slurm-report-*.out)"
done
say "all 18 records present and bit-identical to the local runs; report written by job $report"

# 2. A task requeued in the middle of its run resumes from its checkpoint.
say "submitting a run long enough to be requeued half-way"
sub=$("$bench" slurm --suite-file bench/testdata/long.json --no-download --checkpoint-every 50 \
  --out "$T/long" --cpus 1 --time 00:10:00 --grace 60 --submit)
echo "$sub"
array=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\1/p' <<<"$sub")
report=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\2/p' <<<"$sub")
[ -n "$array" ] && [ -n "$report" ] || fail "no job ids in: $sub"
t=0
until grep -qE 'partial .*checkpoint at iteration ([2-9][0-9]{2}|1[0-4][0-9]{2}) ' <<<"$("$bench" status --in "$T/long" 2>/dev/null)"; do
  sleep 0.2; t=$((t + 1))
  [ "$t" -lt 300 ] || { "$bench" status --in "$T/long"; fail "no mid-run checkpoint after 60 s"; }
done
"$bench" status --in "$T/long" | sed -n 1p
say "requeueing task ${array}_0 while it runs"
scontrol requeue "${array}_0" || fail "scontrol requeue ${array}_0"
t=0
until grep -q . <<<"$(squeue -h -j "${array}_0" -t PD 2>/dev/null)"; do
  sleep 0.2; t=$((t + 1))
  [ "$t" -lt 300 ] || { squeue -j "$array"; fail "the task was not requeued"; }
done
# A requeued job is eligible again once its credential has expired
# (cred_expire above: 10 s instead of the default 120 s).
wait_gone "$array,$report" 90
rec=$T/long/runs/long_spad_r1.json
[ -s "$rec" ] || fail "no record of the requeued run: $(cat "$T"/long/logs/slurm-*.out)"
resumed=$(grep -o '"resumed_at":\[[0-9,]*\]' "$rec" || true)
[ -n "$resumed" ] || fail "the requeued run did not resume from its checkpoint (no resumed_at in its record)"
grep -q "restart 1" "$T"/long/logs/slurm-"${array}"_0.out || fail "the task did not run a second time"
grep -h "resumed long/spad/r1" "$T/long/logs/long_spad_r1.log"
say "local reference of the long run (uninterrupted, one thread)"
"$bench" run --suite-file bench/testdata/long.json --no-download --checkpoint-every 0 --index 0 --threads 1 --out "$T/long-local" >/dev/null 2>&1
"$bench" compare --in "$T/long" --against "$T/long-local" | tail -1 || fail "the resumed run differs from an uninterrupted one"
say "requeued task resumed ($resumed) and ended bit-identical to an uninterrupted run"

# 3. A task told that its time is nearly up (USR1, what --signal=B:USR1@grace
#    sends) checkpoints, requeues itself and resumes.
say "submitting the long run again; its task will be told that its time is up"
sub=$("$bench" slurm --suite-file bench/testdata/long.json --no-download --checkpoint-every 50 \
  --out "$T/limit" --cpus 1 --time 00:10:00 --grace 60 --submit)
array=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\1/p' <<<"$sub")
report=$(sed -n 's/^array job \([0-9]*\) .*report job \([0-9]*\) .*/\2/p' <<<"$sub")
[ -n "$array" ] && [ -n "$report" ] || fail "no job ids in: $sub"
t=0
until grep -qE 'partial .*checkpoint at iteration ([2-9][0-9]{2}|1[0-4][0-9]{2}) ' <<<"$("$bench" status --in "$T/limit" 2>/dev/null)"; do
  sleep 0.2; t=$((t + 1))
  [ "$t" -lt 300 ] || { "$bench" status --in "$T/limit"; fail "no mid-run checkpoint after 60 s"; }
done
scancel --signal=USR1 --batch "${array}_0" || fail "scancel --signal=USR1 ${array}_0"
wait_gone "$array,$report" 90
out=$T/limit/logs/slurm-${array}_0.out
grep -q "checkpointed before the time limit: requeueing" "$out" || fail "the task did not requeue itself: $(cat "$out")"
grep -q "restart 1" "$out" || fail "the requeued task did not run again: $(cat "$out")"
resumed=$(grep -o '"resumed_at":\[[0-9,]*\]' "$T/limit/runs/long_spad_r1.json" || true)
[ -n "$resumed" ] || fail "the self-requeued run did not resume from its checkpoint"
"$bench" compare --in "$T/limit" --against "$T/long-local" | tail -1 || fail "the self-requeued run differs from an uninterrupted one"
say "the task checkpointed, requeued itself and resumed ($resumed), bit-identical again"
echo "Slurm cluster test passed"
