#!/usr/bin/env bash
# Phase profile of the SmallUNet train step on both sides, interleaved: forward+loss, backward, optimizer
# (step + zero_grad), total, and minor page faults per step (medians over --samples steps after the usual
# warm-up). Diagnostic only (docs/benchmarks.md); the recorded numbers come from bench/run.sh.
#
#   bench/profile.sh [--threads "1 2"] [--repeats 3] [--samples 40] [--env "NAME=value ..."] [--cs-args "--forward-scope"]
#
# --env adds variables to both sides, e.g. --env GLIBC_TUNABLES=glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="1 2"; repeats=3; samples=40; extra_env=""; cs_args=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --env) extra_env="$2"; shift 2 ;;
    --cs-args) cs_args="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
dll="$root/bench/AmbientDiffusion.Bench/bin/Release/net10.0/AmbientDiffusion.Bench.dll"
[[ -f $dll ]] || dotnet build "$root/bench/AmbientDiffusion.Bench/AmbientDiffusion.Bench.csproj" -c Release --nologo -v quiet >&2
fmt='import json,sys; d=json.load(sys.stdin); d=d.get("profile_train_step", d); print("%-7s %3s  %8.1f %8.1f %8.1f %8.1f %8.0f %8.1f %8.1f" % (sys.argv[1], sys.argv[2], d["forward_loss_ms"], d["backward_ms"], d["optimizer_ms"], d["total_ms"], d["minor_page_faults_per_step"], d["cpu_user_ms_per_step"], d["cpu_sys_ms_per_step"]))'
echo "side    thr  fwd+loss backward optimizer  total  faults/step  user/step sys/step  (ms; env: ${extra_env:-none}; C# args: ${cs_args:-none})"
for ((r = 1; r <= repeats; r++)); do
  for t in $threads; do
    echo "# repeat $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
    env OPENBLAS_NUM_THREADS=1 $extra_env /usr/bin/python3 "$root/bench/pytorch/profile_phases.py" --threads "$t" --samples "$samples" | /usr/bin/python3 -c "$fmt" pytorch "$t"
    env OPENBLAS_NUM_THREADS=1 $extra_env dotnet "$dll" --threads "$t" --only train_step_small_unet --scale 0.05 --profile --profile-samples "$samples" $cs_args 2>/dev/null | /usr/bin/python3 -c "$fmt" csharp "$t"
  done
done
