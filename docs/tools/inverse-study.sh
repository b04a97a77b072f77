#!/usr/bin/env bash
# The inverse-problem study of docs/inverse-problems.md: measure held-out Fashion-MNIST images with four operators and
# reconstruct them with DPS and MMPS under each prior given on the command line (name=checkpoint ...).
# Usage: docs/tools/inverse-study.sh CLI_DLL PREPARED OUT name=checkpoint [name=checkpoint ...]
# RECONSTRUCT_ARGS (e.g. "--sigma-min 0.2") is passed to every reconstruct call: give such a run its own prior names.
set -euo pipefail
cli=$1 prepared=$2 out=$3; shift 3
export OMP_WAIT_POLICY=PASSIVE AMBIENT_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
images=0-49
declare -A operators=(
  [inpaint-p0.6]="pixel(p=0.6)"
  [inpaint-p0.9]="pixel(p=0.9)"
  [sr4]="pool(k=4)"
  [blur]="gaussian_blur(size=9, sigma=2)"
)
mkdir -p "$out/measurements"
for task in "${!operators[@]}"; do
  m="$out/measurements/$task.safetensors"
  [ -f "$m" ] || dotnet "$cli" measure "$prepared" --operator "${operators[$task]}" --images $images --seed 0 -o "$m"
done
for prior in "$@"; do
  name=${prior%%=*} checkpoint=${prior#*=}
  for task in inpaint-p0.6 inpaint-p0.9 sr4 blur; do
    m="$out/measurements/$task.safetensors"
    # Equal network cost: MMPS 18 Heun steps with 2 CG iterations, DPS 45 steps.
    [ -f "$out/$name/$task-mmps/report.json" ] || /usr/bin/time -f "$name $task mmps %e s" dotnet "$cli" reconstruct -c "$checkpoint" -m "$m" \
      --method mmps --steps 18 --cg-iterations 2 ${RECONSTRUCT_ARGS:-} --reference "$prepared" --seed 0 -o "$out/$name/$task-mmps" | grep -E "^(reconstruction|pseudo|harmonic)"
    [ -f "$out/$name/$task-dps/report.json" ] || /usr/bin/time -f "$name $task dps %e s" dotnet "$cli" reconstruct -c "$checkpoint" -m "$m" \
      --method dps --steps 45 --guidance-scale 10 ${RECONSTRUCT_ARGS:-} --reference "$prepared" --seed 0 -o "$out/$name/$task-dps" | grep -E "^(reconstruction|pseudo|harmonic)"
  done
done
