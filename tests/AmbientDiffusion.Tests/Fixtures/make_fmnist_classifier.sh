#!/usr/bin/env bash
# Makes Fixtures/fmnist_classifier.safetensors, the Fashion-MNIST classifier the feature-space protocol test
# (ClassifierFeatureSpaceTests) loads: 10000 seeded training images, 2 epochs, seed 0, on the CPU. Run from the
# repository root after `dotnet build src/AmbientDiffusion.Cli -c Release`.
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
ambient=src/AmbientDiffusion.Cli/bin/Release/net10.0/ambient
work=$(mktemp -d)
$ambient prepare fashion-mnist -n 10000 --seed 7 --heldout-source fashion-mnist:test --heldout 2000 -r 28 -o "$work/fmnist-10k.safetensors"
$ambient classifier train "$work/fmnist-10k.safetensors" --epochs 2 --seed 0 --device cpu -o tests/AmbientDiffusion.Tests/Fixtures/fmnist_classifier.safetensors
rm -r "$work"
