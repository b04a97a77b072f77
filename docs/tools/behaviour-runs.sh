#!/usr/bin/env bash
# Runs four fixed small experiments with the ambient CLI built in $1 (a folder with ambient.dll) into $2 and prints the
# hashes of their checkpoints, samples and reports. Run it for two builds into the same path in turn (paths enter
# the artifacts), then compare the trees with docs/tools/compare_runs.py: used to show that a refactor changes no
# weight, sample or report number.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd); cli=$(cd "$1" && pwd); out=$2; rm -rf "$out"; mkdir -p "$out"; cd "$out"
export OPENBLAS_NUM_THREADS=1 AMBIENT_NUM_THREADS=2
common=(--set dataset.count=200 --set dataset.heldout=100 --set training.duration_kimg=0.192 --set training.checkpoint_kimg=0.096 --set training.tick_kimg=0.064 --set sampling.seeds=0-23 --set sampling.steps=6 --set device.type=cpu)
dotnet $cli/ambient.dll train "$repo"/configs/quickstart.yaml "${common[@]}" --set name=ambient > ambient.log 2>&1
dotnet $cli/ambient.dll train "$repo"/configs/fmnist-noisy-tweedie.yaml "${common[@]}" --set name=tweedie > tweedie.log 2>&1
dotnet $cli/ambient.dll train "$repo"/configs/quickstart.yaml "${common[@]}" --set name=edm --set loss.kind=edm --set corruption.p=0 > edm.log 2>&1
dotnet $cli/ambient.dll train "$repo"/configs/quickstart.yaml "${common[@]}" --set name=fixed --set loss.further_corruption=fixed --set corruption.mask=box --set corruption.p=0.3 --set sampling.churn=5 > fixed.log 2>&1
for r in ambient tweedie edm fixed; do
  for f in runs/$r/checkpoints/*.safetensors runs/$r/samples/samples.safetensors runs/$r/report/report.json runs/$r/report/quality.json; do
    echo "$(sha256sum < $f | cut -c1-16) $f"
  done
done
