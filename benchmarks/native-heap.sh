#!/usr/bin/env bash
# What keeping freed memory in the C heap (src/Engine/Runs/NativeHeap.cs) is worth: the same DSA run (Fashion-MNIST,
# 10 images per class, seed 1, the results table's options, no evaluation) twice side by side, each on one thread —
# once with glibc's default malloc (GLIBC_TUNABLES naming a malloc tunable turns Distillery's setting off; a tcache
# of 7 is glibc's own default, and unlike the mmap tunables it keeps glibc's dynamic mmap threshold) and once as
# Distillery runs by default. Prints each run's median seconds per iteration (the
# first, warm-up iteration left out), the ratio, the peak memory, and whether the distilled images are bit-identical.
#   sudo apt-get install dataset-fashion-mnist && benchmarks/native-heap.sh [iterations=4]
set -euo pipefail
ITERATIONS=${1:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
dotnet build src/Host -c Release > /dev/null
DISTILLERY="$ROOT/src/Host/bin/Release/net10.0/distillery"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() { # $1: folder name; the rest: environment
  local name=$1; shift
  env "$@" OMP_NUM_THREADS=1 "$DISTILLERY" run manifests/fmnist-table-dsa.json --set sweep=null --set seed=1 \
    --set algorithm.options.imagesPerClass=10 --set algorithm.options.iterations="$ITERATIONS" --set 'evaluation=[]' \
    --output "$OUT/$name" > "$OUT/$name.log" 2>&1
}
run glibc-default GLIBC_TUNABLES=glibc.malloc.tcache_count=7 &
run distillery &
wait
median() { grep -o 'dsa iteration [0-9]*: [0-9.]* s' "$OUT/$1/run.log" | awk 'NR > 1 { print $4 }' | sort -n \
           | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
peak() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['peakMemoryBytes'] / 2**20))" "$OUT/$1/metrics.json"; }
A=$(median glibc-default); B=$(median distillery)
echo "glibc default malloc: median $A s per iteration, peak $(peak glibc-default) MiB"
echo "freed memory kept:    median $B s per iteration, peak $(peak distillery) MiB"
echo "speed-up: $(python3 -c "print(f'{$A / $B:.2f}')")×"
cmp -s "$OUT/glibc-default/distilled.safetensors" "$OUT/distillery/distilled.safetensors" && echo "distilled images: bit-identical" || echo "distilled images: DIFFERENT"
