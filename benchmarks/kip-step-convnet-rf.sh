#!/usr/bin/env bash
# The KIP step of RFAD's setting (convnet-rf: 8 networks × width 128 × depth 3, 100 support images, target batch 1,280,
# full Fashion-MNIST, standardised), before and after issue 9, and in plain PyTorch, in one script:
#   (a) networks redrawn every step, (b) one fixed draw (after: the training set's features cached once per run).
# The same harness (benchmarks/KipStepBenchmark/Program.cs of HEAD, which uses no API newer than the base) is built
# against the plugins of the base commit, in a temporary git worktree, and of HEAD.
#
# Each of the three runs under both C-heap settings, one after the other: glibc's default malloc, and freed memory kept
# for reuse (what the distillery host sets at start-up, src/Engine/Runs/NativeHeap.cs; given here to every process,
# the Python peer included, as GLIBC_TUNABLES, because neither the harness nor Python calls mallopt).
#
#   benchmarks/kip-step-convnet-rf.sh [steps=5] [more KipStepBenchmark options, e.g. --train 1500 --warm-up 1]
#   BASE=<commit> (default f9e864b), OMP_NUM_THREADS (default 1), TORCH=0 skips the PyTorch peer,
#   PEER_ARGS (default "--warm-up 1") more options for the peer, HEAPS (default "default kept") the heap settings.
#
# Expect about 40 minutes on one thread with --train 1500 --warm-up 1 (2026-12-06): before the change a step takes tens of seconds,
# and (b) after it starts by computing the features of the training images (its "first step" figure).
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
base=${BASE:-f9e864b}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
steps=${1:-5}
shift || true
work=$(mktemp -d)
cleanup() { git -C "$root" worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

git -C "$root" worktree add --quiet --detach "$work/base" "$base"
cp "$root/benchmarks/KipStepBenchmark/Program.cs" "$work/base/benchmarks/KipStepBenchmark/Program.cs"
echo "building the harness against $base and HEAD ($(git -C "$root" rev-parse --short HEAD))"
dotnet build -c Release "$work/base/benchmarks/KipStepBenchmark" -o "$work/base-bin" -nologo -v q >/dev/null
dotnet build -c Release "$root/benchmarks/KipStepBenchmark" -o "$work/head-bin" -nologo -v q >/dev/null

python=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch (a pyenv python3 first on PATH lacks it)
for heap in ${HEAPS:-default kept}; do
  case $heap in
    default) tunables= ;;
    kept) tunables=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647:glibc.malloc.top_pad=67108864 ;;
    *) echo "HEAPS: unknown setting '$heap' (allowed: default, kept)" >&2; exit 2 ;;
  esac
  export GLIBC_TUNABLES=$tunables
  echo "==== C heap: $heap${tunables:+ (GLIBC_TUNABLES=$tunables)}"
  echo "== before: $base"
  dotnet "$work/base-bin/KipStepBenchmark.dll" convnet-rf "$steps" "$@"
  echo "== after: HEAD"
  dotnet "$work/head-bin/KipStepBenchmark.dll" convnet-rf "$steps" "$@"
  if [ "${TORCH:-1}" != 0 ]; then
    echo "== PyTorch peer (benchmarks/reference/rfad_step_torch.py)"
    # shellcheck disable=SC2086  # PEER_ARGS is a list of options
    for mode in "--redraw perStep" "--redraw perStep --looped" "--redraw fixed --looped"; do
      "$python" "$root/benchmarks/reference/rfad_step_torch.py" --steps "$steps" ${PEER_ARGS:---warm-up 1} $mode
    done
  fi
done
