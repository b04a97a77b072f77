#!/usr/bin/env bash
# k-NN throughput of the memorization analyzer on the CPU (see docs/benchmarks-knn.md): builds the bench (Release),
# then runs it with OPENBLAS_NUM_THREADS=1 and 2 intra-op threads. Extra arguments go to the bench, e.g.
#
#   bench/AmbientDiffusion.Bench.Knn/run.sh                                  # 10k x 60k at D = 784 and 3072, random data
#   bench/AmbientDiffusion.Bench.Knn/run.sh --data fmnist --dims 784         # Fashion-MNIST test -> train
#   bench/AmbientDiffusion.Bench.Knn/run.sh --queries 2000 --no-build        # a shorter run
#
# Results: bench/results/knn-<time>.json (git-ignored; copies quoted in the docs live in bench/results/recorded/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=1
threads=2
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ $build == 1 ]]; then
  dotnet build "$root/bench/AmbientDiffusion.Bench.Knn" -c Release -nologo -v q
fi
mkdir -p "$root/bench/results"
out="$root/bench/results/knn-$(date +%Y%m%d-%H%M%S).json"
echo "load before: $(cat /proc/loadavg)" >&2
OPENBLAS_NUM_THREADS=1 dotnet "$root/bench/AmbientDiffusion.Bench.Knn/bin/Release/net10.0/AmbientDiffusion.Bench.Knn.dll" \
  --threads "$threads" --out "$out" "${args[@]}" > /dev/null
echo "wrote $out" >&2
