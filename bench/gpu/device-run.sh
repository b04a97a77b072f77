#!/usr/bin/env bash
# Runs on the GPU machine after bench/gpu/prepare.sh, from the repository root, with artifacts/gpu carried along:
#   1. builds the shim against the libtorch inside PyTorch (TORCH_DIR from torch.utils.cmake_prefix_path) and unpacks
#      the carried libSkiaSharp.so (the image codecs) next to each program;
#   2. times the ambient training step of the CelebA-64 paper network at batch 256 in bf16 autocast and in float32
#      (TF32 on), and the small network, reporting img/s and MFU against --peak-tflops;
#   3. runs the quickstart through the `ambient` CLI on CUDA (a shortened training, sampling and the report);
#   4. with --gpus N (N > 1, a machine with several GPUs): the NCCL all-reduce of the CelebA-64 network's gradient
#      across N processes, and the shortened quickstart as N data-parallel workers (`ambient launch --nproc N`).
# Results go to $OUT (the device tool's output folder) or ./gpu-results.
#
#   bash bench/gpu/device-run.sh [--device cuda] [--peak-bf16 989.4] [--peak-tf32 494.7] [--samples 10] [--batch 256] [--gpus N]
#
# Peaks default to an H100 SXM's dense bf16 and TF32 tensor-core rates (NVIDIA's datasheet); pass the right ones for
# another GPU. --device cpu runs the same sequence on the CPU, to check the script where no GPU is lent (with a small
# --batch, and TORCH_DIR= set empty to build against the system libtorch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
device=cuda; peak_bf16=989.4; peak_tf32=494.7; samples=10; batch=256; gpus=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --peak-bf16) peak_bf16="$2"; shift 2 ;;
    --peak-tf32) peak_tf32="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --gpus) gpus="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
art="$root/artifacts/gpu"
results="${OUT:-$root/gpu-results}"
mkdir -p "$results"
[[ -x $art/bench/AmbientDiffusion.Bench.Training ]] || { echo "artifacts/gpu is missing: run bash bench/gpu/prepare.sh and carry artifacts/gpu" >&2; exit 1; }
python=$(command -v python3)
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"; \
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())' || true; \
  nproc; } | tee "$results/machine.txt"

# 1. The shim, against this machine's libtorch.
torch_dir=${TORCH_DIR-$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')}
cmake -S "$root/src/AmbientDiffusion.Native" -B /tmp/ambient-shim -DCMAKE_BUILD_TYPE=Release -DTORCH_DIR="$torch_dir" \
      -Wno-dev >"$results/cmake.log" 2>&1
cmake --build /tmp/ambient-shim --parallel >>"$results/cmake.log" 2>&1 || { tail -40 "$results/cmake.log"; exit 1; }
for app in bench cli dist; do
  cp /tmp/ambient-shim/libambient_native.so "$art/$app/"
  gzip -dc "$art/libSkiaSharp.so.gz" >"$art/$app/libSkiaSharp.so"
done
# libtorch's own libraries are found through the shim's RPATH; PyTorch's wheels also ship libgomp and the CUDA libs.

# 2. Training-step throughput and MFU.
bench="$art/bench/AmbientDiffusion.Bench.Training"
threads=$(nproc)
"$bench" --device "$device" --threads "$threads" --only celeba64_ungated --batch "$batch" --samples "$samples" --bf16 \
  --peak-tflops "$peak_bf16" --out "$results/celeba64-b$batch-bf16.json" >/dev/null
"$bench" --device "$device" --threads "$threads" --only celeba64_ungated --batch "$batch" --samples "$samples" \
  --peak-tflops "$peak_tf32" --out "$results/celeba64-b$batch-tf32.json" >/dev/null
"$bench" --device "$device" --threads "$threads" --only celeba64_gated --batch "$batch" --samples "$samples" --bf16 \
  --peak-tflops "$peak_bf16" --out "$results/celeba64-gated-b$batch-bf16.json" >/dev/null
"$bench" --device "$device" --threads "$threads" --only small_ungated --batch "$batch" --samples "$samples" --bf16 \
  --peak-tflops "$peak_bf16" --out "$results/small-b$batch-bf16.json" >/dev/null
"$python" - "$results" <<'PY' | tee "$results/summary.txt"
import glob, json, os, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*-b*-*.json"))):
    report = json.load(open(path))
    for name, r in report["benchmarks"].items():
        print(f"{os.path.basename(path)}: {name} on {report['device']}, bf16 {report['bf16_autocast']}, batch {r['batch']}: "
              f"step {r['median_us'] / 1e3:.1f} ms (p10 {r['p10_us'] / 1e3:.1f}, p90 {r['p90_us'] / 1e3:.1f}), "
              f"{r['images_per_second']:.0f} img/s, {r['forward_gflop_per_image']:.2f} GFLOP/img forward, "
              f"{r['model_tflops_per_second']:.1f} TFLOP/s, MFU {100 * r.get('mfu', float('nan')):.1f}%")
PY

# 3. The quickstart through the CLI, shortened, on this device (data from the carried cache).
if compgen -G "$art/runs/data/*.safetensors" >/dev/null; then
  rm -rf /tmp/ambient-runs && mkdir -p /tmp/ambient-runs && cp -r "$art/runs/data" /tmp/ambient-runs/
  "$art/cli/ambient" train "$root/configs/quickstart.yaml" --runs /tmp/ambient-runs --set device.type="$device" \
    --set device.bf16=true --set training.duration_kimg=4 --set sampling.seeds=0-63 2>&1 | tail -20 | tee "$results/cli.txt"
  cp /tmp/ambient-runs/quickstart/metrics.jsonl /tmp/ambient-runs/quickstart/samples/grid.png \
     /tmp/ambient-runs/quickstart/report/report.json "$results/" 2>/dev/null || true
fi
# 4. Several GPUs: the gradient all-reduce (NCCL on CUDA, Gloo with --device cpu) and a data-parallel CLI run.
if ((gpus > 1)); then
  "$art/dist/AmbientDiffusion.Bench.Distributed" --config "$root/configs/celeba64-ambient-p0.8.yaml" --nproc "$gpus" \
    --device "$device" --samples "$samples" --out "$results/allreduce-celeba64-x$gpus.json" | tee "$results/allreduce.txt"
  if compgen -G "$art/runs/data/*.safetensors" >/dev/null; then
    rm -rf /tmp/ambient-runs-dp && mkdir -p /tmp/ambient-runs-dp && cp -r "$art/runs/data" /tmp/ambient-runs-dp/
    "$art/cli/ambient" launch --nproc "$gpus" -- train "$root/configs/quickstart.yaml" --runs /tmp/ambient-runs-dp \
      --set device.type="$device" --set device.bf16=true --set training.duration_kimg=4 \
      --set "training.batch_size=$((32 * gpus))" --set sampling.seeds=0-63 2>&1 | tail -20 | tee "$results/cli-x$gpus.txt"
    cp /tmp/ambient-runs-dp/quickstart/metrics.jsonl "$results/metrics-x$gpus.jsonl" 2>/dev/null || true
  fi
fi
echo "results in $results"
