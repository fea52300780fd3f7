#!/usr/bin/env bash
# End-to-end check of deploy/slurm-array.sbatch on a real, one-node Slurm cluster started here (Debian's slurm-wlm
# and munge, run as root): a private munged, slurmctld and slurmd on localhost, all state in a temporary folder and
# on free ports. It submits the 4-point sweep manifests/slurm-sample-sweep.json as a job array, waits, runs
# `distillery collect`, and compares the table with that of `distillery run` on the same sweep (results.csv without
# the wall-time and memory columns). It stops the daemons it started, and only those.
#   apt-get install slurm-wlm munge && dotnet build src/Host && deploy/slurm-e2e.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DLL="$ROOT/src/Host/bin/Debug/net10.0/distillery.dll"
MANIFEST="$ROOT/manifests/slurm-sample-sweep.json"
for tool in munged mungekey slurmctld slurmd sbatch squeue sacct scontrol; do
  command -v "$tool" > /dev/null || [[ -x /usr/sbin/$tool ]] || { echo "error: $tool is missing: apt-get install slurm-wlm munge" >&2; exit 2; }
done
[[ -f "$DLL" ]] || { echo "error: $DLL is missing: dotnet build src/Host first" >&2; exit 2; }
export PATH="$PATH:/usr/sbin"

WORK=$(mktemp -d /tmp/distillery-slurm-XXXX)
chmod 755 "$WORK"
pids=()
stop_cluster() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done; done
}
trap stop_cluster EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for <seconds> <what> <command...>
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  echo "error: $what did not come up within ${seconds}s; logs in $WORK" >&2; exit 3
}

# munge: a fresh key and a private socket, so nothing on this machine is touched.
mkdir -m 700 "$WORK/munge"
mungekey --create --keyfile "$WORK/munge/munge.key"
munged --key-file "$WORK/munge/munge.key" --socket "$WORK/munge/munge.sock" --pid-file "$WORK/munge/munged.pid" \
       --log-file "$WORK/munge/munged.log" --seed-file "$WORK/munge/munged.seed" --force
wait_for 10 munged test -S "$WORK/munge/munge.sock"
pids+=("$(cat "$WORK/munge/munged.pid")")

# Slurm: one node (this machine, under its own host name, reached at 127.0.0.1) with its CPUs and memory.
HOST=$(hostname -s)
CPUS=$(nproc)
MEMORY=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/log"
export SLURM_CONF="$WORK/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=distillery-e2e
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$WORK/munge/munge.sock
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
wait_for 20 slurmctld scontrol ping
pids+=("$(cat "$WORK/slurmctld.pid")")
slurmd -f "$SLURM_CONF"
wait_for 30 "the node" bash -c "sinfo -h -N -o %t | grep -qE '^(idle|mix|alloc)'"
pids+=("$(cat "$WORK/slurmd.pid")")
echo "Slurm $(sinfo -V | cut -d' ' -f2) cluster up: node $HOST, $CPUS CPUs, $MEMORY MB ($WORK)"

# The sweep as a job array: one task per point, one core each, into a shared results folder.
n=$(dotnet "$DLL" points "$MANIFEST" 2> /dev/null | wc -l)
mkdir -p "$WORK/submit"
job=$(cd "$WORK/submit" && RESULTS="$WORK/results" DISTILLERY="dotnet $DLL" \
      sbatch --parsable --array=0-$((n - 1)) --cpus-per-task=1 --mem=2G "$ROOT/deploy/slurm-array.sbatch" "$MANIFEST")
echo "submitted job array $job with $n tasks"
started=$(date +%s)
while squeue -h -j "$job" 2> /dev/null | grep -q .; do sleep 1; done
echo "job array finished in $(( $(date +%s) - started )) s:"
# No accounting database here: the controller still knows each finished task (for MinJobAge, 300 s by default).
states=$(scontrol show job "$job" -o | grep -oE 'ArrayTaskId=[0-9]+|JobState=[A-Z_]+|ExitCode=[0-9:]+' | paste -d' ' - - -)
echo "$states" | sed 's/^/  /'
if [[ $(grep -c 'JobState=COMPLETED ExitCode=0:0' <<< "$states") -ne $n ]]; then
  echo "error: not every task completed; their output is in $WORK/submit" >&2; exit 3
fi
echo; echo "distillery collect (the Slurm array's results):"
dotnet "$DLL" collect "$WORK/results" 2> /dev/null
echo "distillery run (the same sweep on this machine):"
# With the tasks' thread count (one core each): libtorch's float32 sums depend on how many threads split them.
OMP_NUM_THREADS=1 dotnet "$DLL" run "$MANIFEST" --output "$WORK/reference/slurm-sample-sweep" > "$WORK/reference.log" 2>&1 \
  || { echo "error: the reference run failed: see $WORK/reference.log" >&2; exit 3; }
cat "$WORK/reference/slurm-sample-sweep/results.md"

# The figures must agree exactly; wall time and memory (the last two columns) naturally differ.
strip() { python3 -c 'import csv, sys; [print(row[:-2]) for row in csv.reader(open(sys.argv[1]))]' "$1"; }
if [[ "$(strip "$WORK/results/results.csv")" == "$(strip "$WORK/reference/slurm-sample-sweep/results.csv")" ]]; then
  echo "IDENTICAL: results.csv of the Slurm array and of distillery run agree in every column but wall time and memory"
  rm -rf "$WORK"
else
  diff <(strip "$WORK/results/results.csv") <(strip "$WORK/reference/slurm-sample-sweep/results.csv") || true
  echo "error: the tables differ (folders kept in $WORK)" >&2; exit 3
fi
