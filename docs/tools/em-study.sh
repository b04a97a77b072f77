#!/usr/bin/env bash
# The EM head-to-head study (issue 23, docs/em.md): five arms at about 720 s of one core each (clean, naive, ambient,
# EM from the Gaussian, ambient -> EM) on 500 Fashion-MNIST observations at p = 0.6, training seeds 0 and 1; then the
# N = 16 memorization part (EM from the Gaussian and ambient -> EM on the memorization-frontier's N = 16 cell, the naive
# model beside them, and the membership attacks on all three), and the table.
# Usage: bash docs/tools/em-study.sh [RUNS]   (default runs/; rerunning continues where it stopped)
# Two lanes run side by side, one core each (device.threads: 1 in the configs): seed 0 and seed 1. The N = 16 part
# needs the frontier's N = 16 sweep (docs/tools/frontier-study.sh RUNS 16): its clean and ambient p = 0.6 cells are
# the comparison, and its ambient p = 0.6 checkpoint at 16 kimg starts ambient -> EM there. About 2 h 10 min on a quiet 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs}
ambient=${AMBIENT:-dotnet artifacts/cli/ambient.dll}
[ -n "${AMBIENT:-}" ] || dotnet build src/AmbientDiffusion.Cli -c Release -o artifacts/cli >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
study="$runs/em-study"
lane() {  # one training seed: every arm, ambient before ambient -> EM (its 8-kimg checkpoint is that arm's start)
  local seed=$1 sfx=$2
  $ambient train configs/em-study-ambient.yaml --runs "$study" --resume --set seed="$seed" --set name="em-study-ambient$sfx"
  $ambient train configs/em-study-clean.yaml --runs "$study" --resume --set seed="$seed" --set name="em-study-clean$sfx"
  $ambient train configs/em-study-naive.yaml --runs "$study" --resume --set seed="$seed" --set name="em-study-naive$sfx"
  $ambient em configs/em-study-gaussian.yaml --runs "$study" --set seed="$seed" --set name="em-study-gaussian$sfx"
  $ambient em configs/em-study-from-ambient.yaml --runs "$study" --set seed="$seed" --set name="em-study-from-ambient$sfx" \
    --set em.checkpoint="$study/em-study-ambient$sfx/checkpoints/checkpoint-000000125.safetensors"
}
lane 0 "" &
lane 1 "-s1" &
wait
# Memorization where the clean model copies: the frontier's N = 16 cell (same images, masks, held-out set, budget).
frontier="$runs/frontier-n16"
[ -d "$frontier/p=0.6_kind=ambient_sigma_min=0.2" ] || { echo "em-study: $frontier has no p = 0.6 cell; run docs/tools/frontier-study.sh $runs 16 first" >&2; exit 1; }
$ambient train configs/frontier-n16.yaml --runs "$runs" --resume --set corruption.p=0.6 --set loss.kind=naive --set name=emmem-n16-naive &
$ambient em configs/em-memorization-n16-gaussian.yaml --runs "$runs" &
wait
$ambient em configs/em-memorization-n16-from-ambient.yaml --runs "$runs" \
  --set em.checkpoint="$frontier/p=0.6_kind=ambient_sigma_min=0.2/checkpoints/checkpoint-000000250.safetensors"
for run in "$runs/emmem-n16-naive" "$runs/emmem-n16-gaussian/round-01" "$runs/emmem-n16-from-ambient/round-01"; do
  [ -f "$run/report/membership.json" ] || $ambient memorization "$run" --membership --membership-max-images "${MIA_IMAGES:-300}" --overwrite
done
python3 docs/tools/em_study_table.py "$runs"
