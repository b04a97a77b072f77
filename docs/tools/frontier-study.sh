#!/usr/bin/env bash
# The memorization–quality frontier study (issue 24, docs/memorization-frontier.md), as far as it was run:
# N = 16 Fashion-MNIST images, p in {0, 0.4, 0.6, 0.8, 0.9}, training seeds 0 and 1, then the membership attacks on
# every finished run, the clean model's onset over training time, and the trade-off table and charts.
# Usage: bash docs/tools/frontier-study.sh [RUNS]   (default runs/; rerunning continues where it stopped)
# Two sweeps run side by side, one core each (device.threads: 1 in the configs); a 2-core machine needs about
# 15 minutes per run when quiet. ONSET_EVERY keeps the over-time analysis affordable: it analyses a copy of the clean
# run holding every ONSET_EVERY-th checkpoint (default 3: every 6 kimg) and the last one.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs}
ambient=${AMBIENT:-dotnet artifacts/cli/ambient.dll}
[ -n "${AMBIENT:-}" ] || dotnet build src/AmbientDiffusion.Cli -c Release -o artifacts/cli >/dev/null
export OPENBLAS_NUM_THREADS=1
$ambient sweep configs/frontier-n16.yaml --runs "$runs" &
$ambient sweep configs/frontier-n16-seed1.yaml --runs "$runs" &
wait
# The attacks (loss, corruption-aware loss for masked models, PIA) beside the copy analysis, with intervals.
for run in "$runs"/frontier-n16/*/ "$runs"/frontier-n16-seed1/*/; do
  [ -f "$run/report/membership.json" ] || $ambient memorization "$run" --membership --membership-max-images "${MIA_IMAGES:-1000}" --overwrite
done
# When copying starts: the clean model's checkpoints (a subset) analysed over training time.
clean="$runs/frontier-n16/p=0.0_kind=edm"
onset="$runs/frontier-n16-onset"
if [ ! -d "$onset" ]; then
  mkdir -p "$onset/checkpoints"
  cp "$clean"/config.yaml "$clean"/inputs.json "$onset"/
  mapfile -t all < <(ls "$clean"/checkpoints/checkpoint-*.safetensors)
  for i in "${!all[@]}"; do
    if (( i % ${ONSET_EVERY:-3} == 0 || i == ${#all[@]} - 1 )); then cp "${all[$i]}" "$onset/checkpoints/"; fi
  done
fi
$ambient memorization "$onset" --over-time --over-time-samples "${ONSET_SAMPLES:-128}" --membership-max-images "${MIA_IMAGES:-1000}"
$ambient frontier "$runs/frontier-n16" "$runs/frontier-n16-seed1" -o "$runs/frontier-n16-summary"
