#!/usr/bin/env bash
# The KIP step of RFAD's setting (convnet-rf: 8 networks × width 128 × depth 3, 100 support images, target batch 1,280,
# full Fashion-MNIST, standardised), before and after issue 9, and in plain PyTorch, in one script:
#   (a) networks redrawn every step, (b) one fixed draw (after: the training set's features cached once per run).
# The same harness (benchmarks/KipStepBenchmark/Program.cs of HEAD, which uses no API newer than the base) is built
# against the plugins of the base commit, in a temporary git worktree, and of HEAD.
#
#   benchmarks/kip-step-convnet-rf.sh [steps=5] [more KipStepBenchmark options, e.g. --redraw fixed]
#   BASE=<commit> (default f9e864b), OMP_NUM_THREADS (default 1), TORCH=0 skips the PyTorch peer.
#
# Expect about 40 minutes on one thread: before the change a step takes tens of seconds, and (b) after it starts by
# computing the features of all 60,000 training images (its "first step" figure).
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

echo "== before: $base"
dotnet "$work/base-bin/KipStepBenchmark.dll" convnet-rf "$steps" "$@"
echo "== after: HEAD"
dotnet "$work/head-bin/KipStepBenchmark.dll" convnet-rf "$steps" "$@"
python=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch (a pyenv python3 first on PATH lacks it)
if [ "${TORCH:-1}" != 0 ]; then
  echo "== PyTorch peer (benchmarks/reference/rfad_step_torch.py)"
  "$python" "$root/benchmarks/reference/rfad_step_torch.py" --steps "$steps" --redraw perStep
  "$python" "$root/benchmarks/reference/rfad_step_torch.py" --steps "$steps" --redraw fixed
  "$python" "$root/benchmarks/reference/rfad_step_torch.py" --steps "$steps" --redraw fixed --cache
fi
