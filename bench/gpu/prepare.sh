#!/usr/bin/env bash
# Prepares artifacts/gpu/ for a GPU machine that has PyTorch with CUDA, cmake and a C++ compiler but no .NET and no
# network (the lent device): self-contained builds of the training benchmark and of the `ambient` CLI, one compressed
# copy of Skia's native library, and the quickstart's cached Fashion-MNIST data for a CLI run on CUDA. Then, on the GPU
# machine, from the repository root: bash bench/gpu/device-run.sh (see there). Everything has to fit the device
# tool's 64 MiB carry limit.
#
#   bash bench/gpu/prepare.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/artifacts/gpu"
rm -rf "$out"
mkdir -p "$out/runs/data"
# Partial trimming trims only the framework's trimmable assemblies and keeps the application's (its reflection-based
# YAML and JSON need their types); reflection-based System.Text.Json stays enabled for the same reason.
publish=(-c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -p:TrimMode=partial
         -p:SuppressTrimAnalysisWarnings=true -p:TreatWarningsAsErrors=false
         -p:JsonSerializerIsReflectionEnabledByDefault=true -p:DebugType=none -p:GenerateDocumentationFile=false --nologo -v quiet)
dotnet publish "$root/bench/AmbientDiffusion.Bench.Training" "${publish[@]}" -o "$out/bench"
dotnet publish "$root/src/AmbientDiffusion.Cli" "${publish[@]}" -o "$out/cli"
dotnet publish "$root/bench/AmbientDiffusion.Bench.Distributed" "${publish[@]}" -o "$out/dist"
# The device builds its own shim against its CUDA libtorch; the CPU one built here must not be picked up by mistake.
rm -f "$out/bench/libambient_native.so" "$out/cli/libambient_native.so" "$out/dist/libambient_native.so"
# libSkiaSharp.so (the image codecs, 9 MB) is the same file in all three programs: one gzip copy travels, and
# device-run.sh unpacks it next to each.
gzip -9 -c "$out/cli/libSkiaSharp.so" >"$out/libSkiaSharp.so.gz"
rm -f "$out/bench/libSkiaSharp.so" "$out/cli/libSkiaSharp.so" "$out/dist/libSkiaSharp.so"
# The quickstart's prepared and corrupted data, keyed by its dataset and corruption settings: a cache hit never
# opens the source, so the CLI run on the device needs no Fashion-MNIST files.
if compgen -G "$root/runs/data/fashion-mnist-28-*.safetensors" >/dev/null; then
  cp "$root"/runs/data/fashion-mnist-28-*.safetensors "$out/runs/data/"
else
  echo "note: no quickstart data in runs/data (run bash .ci/quickstart once); the device will skip the CLI run" >&2
fi
du -sh "$out"
