#!/usr/bin/env bash
# The memorization–quality frontier study (issue 24, docs/memorization-frontier.md): N Fashion-MNIST images
# (default N = 16 32 64), p in {0, 0.4, 0.6, 0.8, 0.9}, training seeds 0 and 1, then the membership attacks on every
# finished run, each N's clean model over training time (its onset of copying), and the trade-off table and charts.
# Usage: bash docs/tools/frontier-study.sh [RUNS] [N...]   (default runs/ and 16 32 64; rerunning continues where it stopped)
# For each N, two sweeps run side by side (seed 0 and seed 1), one core each (device.threads: 1 in the configs); a
# 2-core machine needs about 15 minutes per run when quiet. The over-time analysis (docs/tools/frontier-onset.sh) reads
# every third checkpoint of each clean run by default (ONSET_EVERY).
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
# When copying starts: each N's clean model over training time (a subset of its checkpoints; frontier-onset.sh).
for n in "${sizes[@]}"; do
  AMBIENT="$ambient" bash docs/tools/frontier-onset.sh "$runs" "$n"
done
$ambient frontier "${sweeps[@]}" -o "$runs/frontier-summary" --overwrite
