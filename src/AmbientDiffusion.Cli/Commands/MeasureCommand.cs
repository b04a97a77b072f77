using System.CommandLine;
using AmbientDiffusion.Data;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Sampling;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient measure`: measurements y = A x + σ_y z of prepared images, for `ambient reconstruct`.</summary>
internal static class MeasureCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("prepared") { Description = "A prepared dataset file (from `ambient prepare`)." };
        var output = new Option<string>("--out", "-o") { Description = "The measurement artifact to write (.safetensors).", Required = true };
        var op = new Option<string>("--operator") { Description = "The forward operator: pixel(p=0.6), box(p=0.25), patch(k=4, p=0.5), pool(k=4), gaussian_blur(size=9, sigma=2), motion_blur(size=9, intensity=0.5) or cs(m=200), optionally followed by + noise(sigma=0.05).", Required = true };
        var split = new Option<MeasuredSplit>("--split") { Description = "heldout (never trained on) or train.", DefaultValueFactory = _ => MeasuredSplit.Heldout };
        var images = new Option<string>("--images") { Description = "Image indices of the split: ranges and lists such as 0-199.", DefaultValueFactory = _ => "0-199" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the operator's random state and the noise: image i uses streams keyed by (seed, i)." };
        var command = new Command("measure", """
            Measure images of a prepared dataset with a forward operator (inpainting, super-resolution, blur,
            compressed sensing; optional Gaussian noise) and write the measurement artifact that `ambient reconstruct`
            reads. The artifact holds y, the operator and its random state, never the clean images.

            Examples:
              ambient measure data/fmnist.safetensors --operator "pixel(p=0.9)" --images 0-199 -o meas/p0.9.safetensors
              ambient measure data/fmnist.safetensors --operator "pool(k=4) + noise(sigma=0.05)" -o meas/sr4.safetensors
              ambient measure data/fmnist.safetensors --operator "gaussian_blur(size=9, sigma=2)" --seed 1 -o meas/blur.safetensors
            """) { input, output, op, split, images, seed };
        command.SetAction(result =>
        {
            var spec = OperatorSpec.Parse(result.GetValue(op)!);
            var indices = SampleSet.ParseSeeds(result.GetValue(images)!).Select(i => (long)i).ToList();
            var outputPath = result.GetValue(output)!;
            Common.OutputPath.CheckFile(outputPath, "--out");
            using var prepared = PreparedDataset.Open(result.GetValue(input)!);
            Measurer.Run(prepared, result.GetValue(split), indices, spec, result.GetValue(seed), outputPath);
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{outputPath}[/]: {indices.Count} {Common.Yaml.EnumName(result.GetValue(split))} images, {spec.Describe()}");
            return CommandRunner.Success;
        });
        return command;
    }
}
