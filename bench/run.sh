#!/usr/bin/env bash
# Side-by-side CPU benchmark: builds the C# bench (Release), then runs it and bench/pytorch/reference_bench.py
# with the same thread count and OPENBLAS_NUM_THREADS=1, interleaved (the order alternates every repeat), and
# prints a C# / PyTorch ratio table (bench/compare.py).
#
#   bench/run.sh [--threads "1 2"] [--repeats 3] [--scale 1] [--only add_small,...] [--out DIR]
#                [--wait-load 0.5] [--no-build]
#
# Timings on a shared 2-core machine are only meaningful when it is otherwise idle: --wait-load X waits (up to
# 30 min) until the 1-minute load average is below X before starting. The load is printed before every run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="1 2"
repeats=3
scale=1
only=""
out="$root/bench/results/$(date +%Y%m%d-%H%M%S)"
wait_load=""
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --wait-load) wait_load="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3
dll="$root/bench/AmbientDiffusion.Bench/bin/Release/net10.0/AmbientDiffusion.Bench.dll"
if [[ $build == 1 ]]; then
  dotnet build "$root/bench/AmbientDiffusion.Bench/AmbientDiffusion.Bench.csproj" -c Release --nologo -v quiet
fi
mkdir -p "$out"

load1() { cut -d' ' -f1 /proc/loadavg; }
if [[ -n $wait_load ]]; then
  deadline=$((SECONDS + 1800))
  until $python -c "import sys; sys.exit(0 if float('$(load1)') < float('$wait_load') else 1)"; do
    if (( SECONDS > deadline )); then echo "load stayed >= $wait_load for 30 min; giving up" >&2; exit 1; fi
    echo "waiting for load < $wait_load (now: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    sleep 20
  done
fi

extra=()
[[ -n $only ]] && extra+=(--only "$only")
[[ $scale != 1 ]] && extra+=(--scale "$scale")

export OPENBLAS_NUM_THREADS=1
run_py() { $python "$root/bench/pytorch/reference_bench.py" --threads "$1" --out "$out/pytorch-t$1-r$2.json" "${extra[@]}" >/dev/null; }
run_cs() { dotnet "$dll" --threads "$1" --out "$out/csharp-t$1-r$2.json" "${extra[@]}" >/dev/null; }

for ((r = 1; r <= repeats; r++)); do
  for t in $threads; do
    if (( r % 2 == 1 )); then order="py cs"; else order="cs py"; fi
    for side in $order; do
      echo "repeat $r, threads $t, $side (load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
      "run_$side" "$t" "$r"
    done
  done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "results: $out" >&2
$python "$root/bench/compare.py" "$out"
