#!/bin/bash
# Issue 13's study, after the three fmnist-conditional-* models are trained: for each model, export a synthetic set
# per guidance weight, then measure it: Classification Accuracy Score (and CAS / real), FD / precision / recall in
# the Fashion-MNIST classifier's feature space against 2000 real test images, and (at g = 1) the representation probe.
#   usage: docs/tools/conditional-study.sh RUNS_DIR OUT_DIR [PER_CLASS] [GUIDANCES]
#   e.g.   docs/tools/conditional-study.sh runs study 100 "1 1.5 2 3"
# RUNS_DIR holds fmnist-conditional-{clean,ambient-p0.6,naive-p0.6}; results go to OUT_DIR/<model>/g<g>/.
# The ambient model is sampled with the fixed-mask sampler stopping at sigma 0.2 (AMBIENT_SIGMA_MIN; the quickstart's
# setting: at EDM's 0.002 the fixed-mask sampler's last steps add speckle, docs/benchmarks.md); the others at 0.002.
# docs/tools/conditional_study_table.py OUT_DIR prints the table recorded in docs/synthetic-data.md.
set -euo pipefail
runs=$1; out=$2; per_class=${3:-100}; guidances=${4:-"1 1.5 2 3"}
ambient=${AMBIENT:-src/AmbientDiffusion.Cli/bin/Release/net10.0/ambient}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
# The classifier whose features FD / precision / recall use, trained once on all 60k training images.
[ -f "$out/fmnist-full.safetensors" ] || "$ambient" prepare fashion-mnist --heldout-source fashion-mnist:test -r 28 -o "$out/fmnist-full.safetensors"
[ -f "$out/fmnist-classifier.safetensors" ] || "$ambient" classifier train "$out/fmnist-full.safetensors" -o "$out/fmnist-classifier.safetensors"
# 2000 real test images: the reference of the quality metrics (its floor is the split of it into two halves).
[ -f "$out/fmnist-test2k.safetensors" ] || "$ambient" prepare fashion-mnist:test -r 28 -n 2000 --seed 1 -o "$out/fmnist-test2k.safetensors"
for model in clean ambient-p0.6 naive-p0.6; do
  for g in $guidances; do
    dir="$out/$model/g$g"
    mkdir -p "$dir"
    sigma_min=0.002; [ "$model" = ambient-p0.6 ] && sigma_min=${AMBIENT_SIGMA_MIN:-0.2}
    [ -f "$dir/synthetic/manifest.json" ] || { rm -rf "$dir/synthetic"; "$ambient" synthesize "$runs/fmnist-conditional-$model" --per-class "$per_class" --guidance "$g" --sigma-min "$sigma_min" -o "$dir/synthetic"; }
    [ -f "$dir/cas/cas.json" ] || "$ambient" cas --synthetic "$dir/synthetic" --real-test fashion-mnist:test -o "$dir/cas"
    [ -f "$dir/synthetic.safetensors" ] || "$ambient" prepare "$dir/synthetic" -r 28 --channels 1 -o "$dir/synthetic.safetensors"
    [ -f "$dir/evaluation/metrics.json" ] || "$ambient" evaluate --samples "$dir/synthetic.safetensors" --reference "$out/fmnist-test2k.safetensors" \
        --features "classifier:$out/fmnist-classifier.safetensors" -o "$dir/evaluation"
    if [ "$g" = "1" ] && [ ! -f "$dir/represent/represent.json" ]; then
      "$ambient" represent --synthetic "$dir/synthetic" --real fashion-mnist -o "$dir/represent"
    fi
  done
done
