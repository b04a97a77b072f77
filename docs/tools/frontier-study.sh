#!/usr/bin/env bash
# The memorization–quality frontier study (issue 24, docs/memorization-frontier.md): N Fashion-MNIST images
# (default N = 16 32 64), p in {0, 0.4, 0.6, 0.8, 0.9}, training seeds 0 and 1, then the membership attacks on every
# finished run, the clean N = 16 model's onset over training time, and the trade-off table and charts.
# Usage: bash docs/tools/frontier-study.sh [RUNS] [N...]   (default runs/ and 16 32 64; rerunning continues where it stopped)
# For each N, two sweeps run side by side (seed 0 and seed 1), one core each (device.threads: 1 in the configs); a
# 2-core machine needs about 15 minutes per run when quiet. ONSET_EVERY keeps the over-time analysis affordable: it
# analyses a copy of the clean run holding every ONSET_EVERY-th checkpoint (default 3: every 6 kimg) and the last one.
# The quickstart-scale attack (10,000 images, p = 0.6 against a clean model at the same budget) is separate:
# docs/memorization-frontier.md gives its commands.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs}
shift || true
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(16 32 64); fi
ambient=${AMBIENT:-dotnet artifacts/cli/ambient.dll}
[ -n "${AMBIENT:-}" ] || dotnet build src/AmbientDiffusion.Cli -c Release -o artifacts/cli >/dev/null
export OPENBLAS_NUM_THREADS=1
sweeps=()
for n in "${sizes[@]}"; do
  $ambient sweep "configs/frontier-n$n.yaml" --runs "$runs" &
  $ambient sweep "configs/frontier-n$n.yaml" --runs "$runs" --set seed=1 --set "name=frontier-n$n-seed1" &
  wait
  sweeps+=("$runs/frontier-n$n" "$runs/frontier-n$n-seed1")
done
# The attacks (loss, corruption-aware loss for masked models, PIA) beside the copy analysis, with intervals:
# every member and MIA_IMAGES of the 1000 held-out images.
for sweep in "${sweeps[@]}"; do
  for run in "$sweep"/*/; do
    [ -f "$run/report/membership.json" ] || $ambient memorization "$run" --membership --membership-max-images "${MIA_IMAGES:-300}" --overwrite
  done
done
# When copying starts: the clean N = 16 model's checkpoints (a subset) analysed over training time.
clean="$runs/frontier-n16/p=0.0_kind=edm"
onset="$runs/frontier-n16-onset"
if [ -d "$clean" ]; then
  if [ ! -d "$onset" ]; then
    mkdir -p "$onset/checkpoints"
    cp "$clean"/config.yaml "$clean"/inputs.json "$onset"/
    mapfile -t all < <(ls "$clean"/checkpoints/checkpoint-*.safetensors)
    for i in "${!all[@]}"; do
      if (( i % ${ONSET_EVERY:-3} == 0 || i == ${#all[@]} - 1 )); then cp "${all[$i]}" "$onset/checkpoints/"; fi
    done
  fi
  $ambient memorization "$onset" --over-time --over-time-samples "${ONSET_SAMPLES:-64}" --membership-max-images "${ONSET_MIA_IMAGES:-200}"
fi
$ambient frontier "${sweeps[@]}" -o "$runs/frontier-summary" --overwrite
