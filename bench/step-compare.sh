#!/usr/bin/env bash
# Interleaved C# vs PyTorch comparison of one ambient training step (bench/AmbientDiffusion.Bench.Training against
# bench/pytorch/ambient/step_bench.py), in float32 and under CPU bf16 autocast.
#
#   bench/step-compare.sh --case small_ungated [--threads 1] [--rounds 10] [--samples 8] [--precisions "fp32 bf16"]
#                         [--out DIR]
#
# Why rounds of short processes: on this shared VM the speed of a whole process varies by up to +-30% from one
# process to the next (steps inside one process agree within a few %), so one long run per side compares two draws
# of that variation. Each round runs every (precision, side) once, the side order alternating between rounds, and
# the summary (bench/step_compare_summary.py) reports per precision the median step time of each side and the
# geometric mean of the per-round C#/PyTorch ratios with a 2-standard-error interval.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case_name=""; threads=1; rounds=10; samples=8; precisions="fp32 bf16"
out="$root/bench/results/training/compare-$(date +%Y%m%d-%H%M%S)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --case) case_name="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --precisions) precisions="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n $case_name ]] || { echo "--case is required (small_ungated, small_gated, celeba64_ungated, celeba64_gated)" >&2; exit 2; }
dll="$root/bench/AmbientDiffusion.Bench.Training/bin/Release/net10.0/AmbientDiffusion.Bench.Training.dll"
dotnet build "$root/bench/AmbientDiffusion.Bench.Training/AmbientDiffusion.Bench.Training.csproj" -c Release --nologo -v quiet >&2
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
for ((r = 1; r <= rounds; r++)); do
  sides="pytorch csharp"; (( r % 2 == 0 )) && sides="csharp pytorch"
  for precision in $precisions; do
    flag=""; [[ $precision == bf16 ]] && flag="--bf16"
    for side in $sides; do
      file="$out/$side-$precision-r$r.json"
      if [[ $side == pytorch ]]; then
        /usr/bin/python3 "$root/bench/pytorch/ambient/step_bench.py" --threads "$threads" --only "$case_name" --samples "$samples" $flag --out "$file" >/dev/null 2>&1
      else
        dotnet "$dll" --threads "$threads" --only "$case_name" --samples "$samples" $flag --out "$file" >/dev/null 2>&1
      fi
    done
  done
  echo "round $r done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done
/usr/bin/python3 "$root/bench/step_compare_summary.py" "$out" "$case_name" | tee "$out/summary.txt"
