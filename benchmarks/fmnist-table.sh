#!/usr/bin/env bash
# The Fashion-MNIST results table (README "Results"): every point of the manifests/fmnist-table-* sweeps (1 and 10
# images per class × 3 seeds and 50 per class × seed 0 for 6 kernel-method rows (KIP-convnet-rf: 50 × 3 seeds), plus
# KIP-convnet-rf with its network redrawn every step at 1 and 10 × 3 seeds and 50 × seed 0, 51 points; 10 per class × 3 seeds and
# 1 and 50 per class × seed 0 for the dc, dsa and dm rows, 15 points), run as `distillery task`
# in parallel lanes of one torch thread each (two single-threaded runs get more done on 2 cores than one run on two
# threads), then collected into runs/fmnist-table/results.md and results.csv. Finished points are skipped and
# interrupted ones resume, so the script can be stopped and started again. Manifests named after the lane count run
# only those sweeps (e.g. the matching rows alone), and ONLY=<regex> only the points whose name matches it (e.g.
# ONLY=imagesPerClass-10_ for the 10-per-class points); the collected table always covers every finished run.
# THREADS=n gives each lane n torch threads instead of one: the 50-per-class KIP-convnet-rf point with two networks runs
# alone on both cores (THREADS=2 with one lane) to fit its hour.
#   sudo apt-get install dataset-fashion-mnist && [ONLY=regex] [THREADS=1] benchmarks/fmnist-table.sh [lanes=2] [manifest…]
set -euo pipefail
LANES=${1:-2}
THREADS=${THREADS:-1}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
dotnet build src/Host -c Release > /dev/null
DISTILLERY="$ROOT/src/Host/bin/Release/net10.0/distillery"
RESULTS="$ROOT/runs/fmnist-table"
# The costliest sweep first, so that the lanes finish close together.
MANIFESTS=(manifests/fmnist-table-dsa.json manifests/fmnist-table-dc.json
           manifests/fmnist-table-kip-convnet-rf.json manifests/fmnist-table-dm.json manifests/fmnist-table-label-solve-convnet-rf.json
           manifests/fmnist-table-kip-fc.json manifests/fmnist-table-label-solve-fc.json
           manifests/fmnist-table-natural-convnet-rf.json manifests/fmnist-table-natural-fc.json)
[ $# -gt 0 ] && MANIFESTS=("$@")
# Larger support sets first (50, then 10, then 1 image per class; the sweeps' order otherwise): the longest points
# start early and the short ones fill the lanes at the end.
ORDER=$("$DISTILLERY" points "${MANIFESTS[@]}" 2>/dev/null \
        | awk -F'\t' -v only="${ONLY:-}" '$3 ~ only { n = $3; sub(/.*imagesPerClass-/, "", n); sub(/_.*/, "", n); print n "\t" $1 }' \
        | sort -s -t$'\t' -k1,1nr | cut -f2)
mkdir -p "$RESULTS/logs"
echo "$(echo "$ORDER" | wc -l) points in $LANES lanes of $THREADS thread(s); logs in $RESULTS/logs"
echo "$ORDER" | xargs -P "$LANES" -I{} sh -c \
  'OMP_NUM_THREADS='"$THREADS"' "$0" task "$@" --index {} --results "'"$RESULTS"'" > "'"$RESULTS"'/logs/point-{}.log" 2>&1 && echo "point {} done" || { echo "point {} failed: see logs/point-{}.log"; exit 255; }' \
  "$DISTILLERY" "${MANIFESTS[@]}"
"$DISTILLERY" collect "$RESULTS"
cat "$RESULTS/results.md"
