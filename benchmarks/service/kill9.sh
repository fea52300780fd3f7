#!/usr/bin/env bash
# Fault check of `distillery serve`: kill -9 the service at K random points of one KIP run, restart it each time, and
# compare the final metrics with an uninterrupted run of the same manifest.
#   dotnet build src/Host && benchmarks/service/kill9.sh [K=10]
set -euo pipefail
K=${1:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DISTILLERY=(dotnet "$ROOT/src/Host/bin/Debug/net10.0/distillery.dll")
WORK=$(mktemp -d /tmp/distillery-kill9-XXXX)
QUEUE="$WORK/queue"; mkdir -p "$QUEUE/inbox"
STEPS=1200
cat > "$WORK/kip.json" <<JSON
{ "name": "kill9", "seed": 7, "dataset": { "name": "fashion-mnist-sample" }, "preprocess": [ { "name": "standardize" } ],
  "kernel": { "name": "fc" },
  "algorithm": { "name": "kip", "options": { "imagesPerClass": 2, "steps": $STEPS, "targetBatchSize": 500, "evaluationInterval": 100, "checkpointInterval": 20 } },
  "evaluation": [ { "name": "krr" } ] }
JSON
cp "$WORK/kip.json" "$QUEUE/inbox/kip.json"
steps_done() { # progress lines with a loss so far (a resumed run repeats the steps after its checkpoint)
  local log="$QUEUE/runs/kip/progress.jsonl"
  if [[ -f "$log" ]]; then grep -c '"loss"' "$log" || true; else echo 0; fi
}

# K kill points, increasing, spread at random over the run's progress lines.
mapfile -t points < <(shuf -i 5-$((STEPS - 50)) -n "$K" | sort -n)
for point in "${points[@]}"; do
  "${DISTILLERY[@]}" serve --queue "$QUEUE" > /dev/null 2>&1 &
  pid=$!
  while (( $(steps_done) < point )) && [[ ! -f "$QUEUE/done/kip.json" ]]; do sleep 0.2; done
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  echo "kill -9 at progress line $(steps_done) (target $point); latest checkpoint: $(ls "$QUEUE/runs/kip/checkpoints" | tail -1)"
done
"${DISTILLERY[@]}" serve --queue "$QUEUE" > /dev/null 2>&1 &
pid=$!
while [[ ! -f "$QUEUE/done/kip.json" && ! -f "$QUEUE/failed/kip.json" ]]; do sleep 0.5; done
kill -TERM "$pid"; wait "$pid" || true

# With the service's thread count (cores / concurrency 1): parallel sums round differently with another count.
"${DISTILLERY[@]}" run "$WORK/kip.json" --output "$WORK/reference" --threads "$(nproc)" > /dev/null 2>&1
a=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["evaluations"], sort_keys=True))' "$QUEUE/runs/kip/metrics.json")
b=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["evaluations"], sort_keys=True))' "$WORK/reference/metrics.json")
echo "after $K kills: $a"
echo "uninterrupted:  $b"
[[ "$a" == "$b" ]] && echo "IDENTICAL" || { echo "DIFFERENT"; exit 1; }
