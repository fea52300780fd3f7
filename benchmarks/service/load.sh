#!/usr/bin/env bash
# Load check of `distillery serve`: N small manifests queued at once, the service stopped by SIGTERM twice during the
# batch and restarted; prints how many finished, failed, were lost or completed twice, and the service's peak memory.
#   dotnet build src/Host && benchmarks/service/load.sh [N=200] [concurrency=2]
set -euo pipefail
N=${1:-200}
CONCURRENCY=${2:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DISTILLERY=(dotnet "$ROOT/src/Host/bin/Debug/net10.0/distillery.dll")
QUEUE=$(mktemp -d /tmp/distillery-load-XXXX)
mkdir -p "$QUEUE/inbox"

for i in $(seq 1 "$N"); do
  cat > "$QUEUE/item-$i.staging" <<JSON
{ "name": "load-$i", "seed": $i,
  "dataset": { "name": "fashion-mnist-sample", "options": { "trainLimit": 2000, "testLimit": 500 } },
  "preprocess": [ { "name": "standardize" } ], "kernel": { "name": "fc" },
  "algorithm": { "name": "kip", "options": { "imagesPerClass": 1, "steps": 20, "targetBatchSize": 200, "evaluationInterval": 0, "checkpointInterval": 5 } },
  "evaluation": [ { "name": "krr" } ] }
JSON
  mv "$QUEUE/item-$i.staging" "$QUEUE/inbox/item-$i.json"
done

peak=0
watch_peak() { # the service's peak resident memory (VmHWM), in kB
  local hwm; hwm=$(awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
  (( hwm > peak )) && peak=$hwm || true
}
finished() { ls "$QUEUE/done" 2>/dev/null | wc -l; }
failed() { ls "$QUEUE/failed" 2>/dev/null | grep -c '\.json$' || true; }

start=$(date +%s)
for stop_after in 40 40 0; do
  "${DISTILLERY[@]}" serve --queue "$QUEUE" --concurrency "$CONCURRENCY" > "$QUEUE/serve-$stop_after-$RANDOM.log" 2>&1 &
  pid=$!
  began=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    watch_peak "$pid"
    if (( stop_after > 0 && $(date +%s) - began >= stop_after )); then kill -TERM "$pid"; wait "$pid" || true; echo "SIGTERM after ${stop_after}s: $(finished) done"; break; fi
    if (( $(finished) + $(failed) >= N )); then kill -TERM "$pid"; wait "$pid" || true; break; fi
    sleep 1
  done
done
elapsed=$(( $(date +%s) - start ))

lost=0; twice=0
for i in $(seq 1 "$N"); do
  [[ -f "$QUEUE/done/item-$i.json" || -f "$QUEUE/failed/item-$i.json" ]] || lost=$((lost + 1))
  log="$QUEUE/runs/item-$i/run.log"
  if [[ -f "$log" ]] && (( $(grep -c "Done in" "$log") > 1 )); then twice=$((twice + 1)); fi
done
echo "items: $N, done: $(finished), failed: $(failed), lost: $lost, completed twice: $twice, left in inbox/running: $(ls "$QUEUE/inbox" "$QUEUE/running" | grep -c json || true)"
echo "wall time: ${elapsed}s with 2 SIGTERM restarts, concurrency $CONCURRENCY; service peak resident memory: $((peak / 1024)) MiB"
echo "queue folder: $QUEUE"
