#!/usr/bin/env bash
# When copying starts (issue 24, docs/memorization-frontier.md): the clean model (p = 0, seed 0) of the frontier's
# N-image sweep analysed over training time: a copy of the run holding every ONSET_EVERY-th checkpoint (default 3:
# every 6 kimg) and the last one, each sampled (ONSET_SAMPLES, default 64) and attacked (ONSET_MIA_IMAGES non-members,
# default 200). Usage: bash docs/tools/frontier-onset.sh RUNS N   (rerunning continues where it stopped)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=$1 n=$2
ambient=${AMBIENT:-dotnet artifacts/cli/ambient.dll}
clean="$runs/frontier-n$n/p=0.0_kind=edm"
onset="$runs/frontier-n$n-onset"
[ -f "$clean/report/report.json" ] || { echo "frontier-onset: $clean has not finished; run its sweep first (configs/frontier-n$n.yaml)" >&2; exit 1; }
if [ ! -d "$onset" ]; then
  mkdir -p "$onset.partial/checkpoints"
  cp "$clean"/config.yaml "$clean"/inputs.json "$onset.partial"/
  mapfile -t all < <(ls "$clean"/checkpoints/checkpoint-*.safetensors)
  for i in "${!all[@]}"; do
    if (( i % ${ONSET_EVERY:-3} == 0 || i == ${#all[@]} - 1 )); then cp "${all[$i]}" "$onset.partial/checkpoints/"; fi
  done
  mv "$onset.partial" "$onset"
fi
$ambient memorization "$onset" --over-time --over-time-samples "${ONSET_SAMPLES:-64}" --membership-max-images "${ONSET_MIA_IMAGES:-200}"
