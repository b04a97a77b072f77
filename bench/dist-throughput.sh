#!/usr/bin/env bash
# Training throughput of one process with T threads against T processes with one thread each (ambient launch), at the
# same global batch, interleaved over rounds: short runs of configs/quickstart.yaml (no sampling, no report) whose
# metrics.jsonl ticks give img/s (the first tick, with start-up, is dropped). Prints one line per run and a summary.
#
#   bash bench/dist-throughput.sh [--rounds 2] [--kimg 1.5] [--tick 0.25] [--threads 2] [--out bench/results/dist]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=2; kimg=1.5; tick=0.25; threads=2; out="$root/bench/results/dist"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --kimg) kimg="$2"; shift 2 ;;
    --tick) tick="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
cli="$root/src/AmbientDiffusion.Cli/bin/Release/net10.0/ambient.dll"
[[ -f $cli ]] || dotnet build "$root/src/AmbientDiffusion.Cli" -c Release >/dev/null
runs="$out/runs"
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
common=(configs/quickstart.yaml --runs "$runs" --set "training.duration_kimg=$kimg" --set "training.tick_kimg=$tick"
        --set training.checkpoint_kimg=1000 --set sampling.seeds= --set memorization.enabled=false)
rate() { /usr/bin/python3 -c 'import json,sys,statistics as s; t=[json.loads(l) for l in open(sys.argv[1])][1:]; print(round(s.median(x["images_per_second"] for x in t),1))' "$1"; }
cd "$root"
for r in $(seq 1 "$rounds"); do
  rm -rf "$runs/one-r$r" "$runs/launch-r$r"
  AMBIENT_NUM_THREADS=$threads dotnet "$cli" train "${common[@]}" --set "name=one-r$r" >/dev/null
  echo "round $r: 1 process x $threads threads: $(rate "$runs/one-r$r/metrics.jsonl") img/s" | tee -a "$out/throughput.txt"
  AMBIENT_NUM_THREADS=1 dotnet "$cli" launch --nproc "$threads" -- train "${common[@]}" --set "name=launch-r$r" >/dev/null
  echo "round $r: $threads processes x 1 thread: $(rate "$runs/launch-r$r/metrics.jsonl") img/s" | tee -a "$out/throughput.txt"
done
echo "loadavg at end: $(cat /proc/loadavg)" | tee -a "$out/throughput.txt"
