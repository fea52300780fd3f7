#!/usr/bin/env bash
# Two `distillery serve` processes on one queue folder: N small KIP manifests queued at once, and `kill -9` of one of
# the services (chosen at random) at K random moments, each restarted at once. Then checks that nothing was lost,
# run twice or misfiled, that every run.log and service log is intact (one writer each: every line a whole log line),
# and that every item's final metrics equal an uninterrupted `distillery run` of its manifest.
#   dotnet build src/Host && benchmarks/service/two-services.sh [N=60] [K=10]
# Prints a summary and "OK", or what went wrong and exits 1. DISTILLERY_DLL overrides the executable.
set -euo pipefail
N=${1:-60}
K=${2:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DISTILLERY=(dotnet "${DISTILLERY_DLL:-$ROOT/src/Host/bin/Debug/net10.0/distillery.dll}")
WORK=$(mktemp -d /tmp/distillery-two-services-XXXX)
QUEUE="$WORK/queue"
mkdir -p "$QUEUE/inbox" "$WORK/manifests"
export OMP_NUM_THREADS=1 # one core per run: two services share the machine, and the reference runs use the same count
SEEDS=2                  # items share 2 manifests (by seed), so 2 uninterrupted runs are the references

for seed in $(seq 0 $((SEEDS - 1))); do
  cat > "$WORK/manifests/seed-$seed.json" <<JSON
{ "name": "two-services-$seed", "seed": $seed,
  "dataset": { "name": "fashion-mnist-sample", "options": { "trainLimit": 1000, "testLimit": 300 } },
  "preprocess": [ { "name": "standardize" } ], "kernel": { "name": "fc" },
  "algorithm": { "name": "kip", "options": { "imagesPerClass": 1, "steps": 40, "targetBatchSize": 200, "evaluationInterval": 0, "checkpointInterval": 5 } },
  "evaluation": [ { "name": "krr" } ] }
JSON
done
for i in $(seq 1 "$N"); do # written elsewhere, then moved in: never claimed half-written
  cp "$WORK/manifests/seed-$((i % SEEDS)).json" "$QUEUE/item-$i.staging"
  mv "$QUEUE/item-$i.staging" "$QUEUE/inbox/item-$i.json"
done

pids=(0 0)
starts=0
start_service() { # start_service <slot>
  "${DISTILLERY[@]}" serve --queue "$QUEUE" --concurrency 1 --threads-per-run 1 > "$WORK/serve-$1-$starts.out" 2>&1 &
  pids[$1]=$!
  starts=$((starts + 1))
}
filed() { find "$QUEUE/done" "$QUEUE/failed" -name '*.json' 2> /dev/null | wc -l; }
mid_run() { # an item in running/ whose run has written a checkpoint
  local manifest
  for manifest in "$QUEUE"/running/*.json; do
    compgen -G "$QUEUE/runs/$(basename "$manifest" .json)/checkpoints/*.safetensors" > /dev/null && return 0
  done
  return 1
}
serving() { grep -qs 'Serving queue' "$QUEUE"/logs/service-*-"$1".log; } # serving <pid>

began=$(date +%s)
start_service 0
start_service 1
# K kill moments: distinct counts of filed items at which to strike, once a run is under way.
mapfile -t moments < <(shuf -i 0-$((N - 2)) -n "$K" | sort -n)
kills=(0 0)
for moment in "${moments[@]}"; do
  while (( $(filed) < moment )); do sleep 0.2; done
  for _ in $(seq 50); do mid_run && break; sleep 0.1; done # strike while a run is past a checkpoint (up to 5 s)
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 * r / 32767 }')" # then 0–0.5 s more
  slot=$(shuf -i 0-1 -n 1)
  while ! serving "${pids[$slot]}"; do sleep 0.2; done # a kill before it has started tests nothing
  kill -9 "${pids[$slot]}"; wait "${pids[$slot]}" 2> /dev/null || true
  kills[$slot]=$((kills[slot] + 1))
  echo "kill -9 of service $slot at $(filed) of $N filed"
  start_service "$slot"
done
deadline=$(( $(date +%s) + 600 ))
while (( $(filed) < N )) && (( $(date +%s) < deadline )); do sleep 0.5; done
for slot in 0 1; do while ! serving "${pids[$slot]}"; do sleep 0.2; done; kill -TERM "${pids[$slot]}"; done
codes=""
for slot in 0 1; do wait "${pids[$slot]}" && code=0 || code=$?; codes="$codes $code"; done
elapsed=$(( $(date +%s) - began ))

problems=()
lost=0; twice=0; misfiled=0; broken_logs=0; differ=0
for i in $(seq 1 "$N"); do
  places=$(find "$QUEUE/inbox" "$QUEUE/running" "$QUEUE/done" "$QUEUE/failed" -name "item-$i.json" | wc -l)
  (( places == 0 )) && { lost=$((lost + 1)); problems+=("item-$i is lost"); }
  [[ -f "$QUEUE/done/item-$i.json" ]] || { misfiled=$((misfiled + 1)); problems+=("item-$i is not in done/"); }
  log="$QUEUE/runs/item-$i/run.log"
  # A completed computation logs "Done in"; a re-run of a finished folder logs "already finished" first.
  computed=$(( $(grep -c 'Done in' "$log" || true) - $(grep -c 'already finished' "$log" || true) ))
  (( computed > 1 )) && { twice=$((twice + 1)); problems+=("item-$i was computed $computed times"); }
done
# Every item under exactly its own id: a second claim of one manifest would show up as item-i-2.
extra=$(find "$QUEUE" -path "$QUEUE/runs" -prune -o -name '*.json' -print | grep -cvE '/item-[0-9]+\.json$' || true)
(( extra > 0 )) && { twice=$((twice + extra)); problems+=("$extra items under a second id"); }
left=$(find "$QUEUE/inbox" "$QUEUE/running" -type f | wc -l)
(( left > 0 )) && problems+=("$left files left in inbox/ or running/")

line='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} \[[A-Z]{3}\] '
service_logs=$(find "$QUEUE/logs" -name 'service-*.log' | wc -l)
(( service_logs == starts )) || problems+=("$service_logs service logs for $starts service starts")
while IFS= read -r -d '' log; do
  if grep -qvE "$line" "$log"; then broken_logs=$((broken_logs + 1)); problems+=("$log has a line that is not a whole log line"); fi
done < <(find "$QUEUE/runs" "$QUEUE/logs" -name '*.log' -print0)
[[ "$codes" == " 0 0" ]] || problems+=("the services exited with$codes after SIGTERM (expected 0 0)")

evaluations() { python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["evaluations"], sort_keys=True))' "$1"; }
for seed in $(seq 0 $((SEEDS - 1))); do
  "${DISTILLERY[@]}" run "$WORK/manifests/seed-$seed.json" --output "$WORK/reference-$seed" > "$WORK/reference-$seed.out" 2>&1 &
done
wait
for i in $(seq 1 "$N"); do
  metrics="$QUEUE/runs/item-$i/metrics.json"
  if [[ ! -f "$metrics" || "$(evaluations "$metrics")" != "$(evaluations "$WORK/reference-$((i % SEEDS))/metrics.json")" ]]; then
    differ=$((differ + 1)); problems+=("item-$i's metrics differ from the uninterrupted run")
  fi
done

taken=$(cat "$QUEUE"/logs/service-*.log | grep -c 'Took over' || true)
resumed=$(cat "$QUEUE"/runs/*/run.log | grep -c 'resuming at step' || true)
echo "items: $N on 2 services; kill -9: $K (service 0: ${kills[0]}, service 1: ${kills[1]}), each restarted; wall time ${elapsed}s"
echo "done: $(find "$QUEUE/done" -name '*.json' | wc -l), failed: $(find "$QUEUE/failed" -name '*.json' | wc -l), lost: $lost, run twice: $twice, misfiled: $misfiled"
echo "taken over from a killed service: $taken; runs resumed from a checkpoint: $resumed"
echo "logs: $N run.log and $service_logs service logs, $broken_logs damaged; service exit codes after SIGTERM:$codes"
echo "metrics equal to an uninterrupted run: $((N - differ)) of $N"
if (( ${#problems[@]} > 0 )); then
  printf 'problem: %s\n' "${problems[@]}"
  echo "FAILED (queue kept in $WORK)"
  exit 1
fi
echo "OK"
rm -rf "$WORK"
