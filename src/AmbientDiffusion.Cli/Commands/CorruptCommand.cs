using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient corrupt`: a prepared dataset → the corrupted-dataset artifact that training reads.</summary>
internal static class CorruptCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("prepared") { Description = "A prepared dataset file (from `ambient prepare`)." };
        var output = new Option<string>("--out", "-o") { Description = "The corrupted dataset to write (.safetensors).", Required = true };
        var mask = new Option<MaskKind>("--mask") { Description = "pixel (random inpainting), box (one square), patch (k x k tiles) or none.", DefaultValueFactory = _ => MaskKind.Pixel };
        var p = new Option<double>("--p") { Description = "Fraction of pixels (pixel, box) or patches (patch) removed, in [0, 1)." };
        var perChannel = new Option<bool>("--per-channel") { Description = "Draw pixel masks per colour channel instead of sharing them." };
        var patchSize = new Option<int>("--patch-size") { Description = "Patch side for --mask patch.", DefaultValueFactory = _ => 4 };
        var noiseSigma = new Option<double>("--noise-sigma") { Description = "Additive Gaussian noise level in [-1, 1] units (0.2 is about 14 dB SNR)." };
        var noiseFraction = new Option<double>("--noise-fraction") { Description = "Fraction of images that receive noise.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the corruption: image i is corrupted by a generator keyed by (seed, i)." };
        var preview = new Option<int>("--preview") { Description = "Also write a PNG of the first N images, clean next to corrupted (removed pixels magenta)." };
        var command = new Command("corrupt", """
            Corrupt every image of a prepared dataset once, and write the corrupted dataset that training reads.

            Examples:
              ambient corrupt data/fmnist-2k.safetensors --mask pixel --p 0.6 -o data/fmnist-2k-p0.6.safetensors --preview 8
              ambient corrupt data/celeba64.safetensors --mask box --p 0.25 --seed 1 -o data/celeba64-box.safetensors
              ambient corrupt data/fmnist-2k.safetensors --mask none --noise-sigma 0.2 -o data/fmnist-2k-noisy.safetensors
            """) { input, output, mask, p, perChannel, patchSize, noiseSigma, noiseFraction, seed, preview };
        command.SetAction(result =>
        {
            var spec = new CorruptionSpec
            {
                Mask = result.GetValue(mask),
                P = result.GetValue(p),
                PerChannel = result.GetValue(perChannel),
                PatchSize = result.GetValue(patchSize),
                NoiseSigma = result.GetValue(noiseSigma),
                NoiseFraction = result.GetValue(noiseFraction),
            };
            var corruption = spec.ToOperator();
            var previewCount = result.GetValue(preview);
            if (previewCount < 0) throw new ArgumentException($"--preview {previewCount}: expected a number of images >= 0");
            var outputPath = result.GetValue(output)!;
            Common.OutputPath.CheckFile(outputPath, "--out");
            using var prepared = PreparedDataset.Open(result.GetValue(input)!);
            ConsoleProgress.Run("corrupt", report =>
            {
                DatasetCorruptor.Run(prepared, corruption, result.GetValue(seed), outputPath, new ProgressRelay<CorruptProgress>(q => report(q.Done, q.Total)));
                return 0;
            });
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{outputPath}[/]: {prepared.Count} images, {corruption.Describe()}");
            if (previewCount > 0)
            {
                var previewPath = Path.ChangeExtension(outputPath, null) + ".preview.png";
                using var corrupted = CorruptedDataset.Open(outputPath);
                DatasetCorruptor.WritePreview(prepared, corrupted, previewCount, previewPath);
                AnsiConsole.MarkupLineInterpolated($"preview: [bold]{previewPath}[/]");
            }
            return CommandRunner.Success;
        });
        return command;
    }
}
