using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient sample`: draws images from a checkpoint with the sampler its training implies.</summary>
internal static class SampleCommand
{
    /// <summary>Seeds drawn when none are given: a quick look (a run's own sampling.seeds apply inside `ambient train`).</summary>
    private const string QuickLookSeeds = "0-63";

    public static Command Create()
    {
        var defaults = new SamplingSettings();
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its newest checkpoint).", Required = true };
        var seeds = new Option<string>("--seeds") { Description = "Seeds, one sample each: ranges and lists such as 0-999 or 0-9,100.", DefaultValueFactory = _ => QuickLookSeeds };
        var output = new Option<string?>("--out", "-o") { Description = "Output folder (default: <run>/samples next to the checkpoints folder)." };
        var batch = new Option<int>("--batch") { Description = "Samples per network call; does not change the samples.", DefaultValueFactory = _ => defaults.BatchSize };
        var overrides = new RunSamplingOverrides();
        var churn = new Option<double?>("--churn") { Description = "EDM's S_churn: stochasticity along the trajectory (0 = deterministic); default: the run config's sampling.churn." };
        var classId = new Option<int?>("--class") { Description = "Class-conditional models: draw every sample for this class id (default: balanced, class = seed mod classes)." };
        var raw = new Option<bool>("--raw") { Description = "Use the raw training weights instead of the EMA." };
        var pngs = new Option<bool>("--png") { Description = "Also write one PNG per sample (png/<seed>.png)." };
        var grid = new Option<int>("--grid") { Description = "Samples shown in grid.png.", DefaultValueFactory = _ => defaults.Grid };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => new DeviceSettings().Type };
        var command = new Command("sample", """
            Draw samples from a trained model (EMA weights by default). Ambient models use the fixed-mask sampler,
            models of noisy data stop at the noise level of their data; each sample depends on its seed only.
            Writes samples.safetensors (uint8 N,C,H,W + seeds), samples.npz (arr_0 as N,H,W,C for FID tools)
            and grid.png. Class-conditional models draw each sample for a class (balanced by seed, or --class)
            with classifier-free guidance --guidance, and also write the labels.

            Examples:
              ambient sample -c runs/quickstart --seeds 0-63
              ambient sample -c runs/quickstart/checkpoints/checkpoint-000000625.safetensors --seeds 0-9999 -o fid/
              ambient sample -c runs/fmnist-conditional-clean --class 3 --guidance 2
            """) { checkpoint, seeds, output, batch, overrides.Steps, churn, overrides.SigmaMin, classId, overrides.Guidance, raw, pngs, grid, device };
        command.SetAction(result =>
        {
            var path = ResolveCheckpoint(result.GetValue(checkpoint)!);
            var seedList = SampleSet.ParseSeeds(result.GetValue(seeds)!);
            var directory = result.GetValue(output) ?? DefaultOutput(path);
            OutputPath.CheckFolder(directory, "--out");
            // Workers of `ambient launch`, torchrun or srun share the seeds out; rank 0 writes the set.
            using var parallel = DataParallel.FromEnvironment(Device.Parse(result.GetValue(device)!));
            using var sampler = CheckpointSampler.Load(path, parallel.Place(Device.Parse(result.GetValue(device)!)), ema: !result.GetValue(raw));
            // The run's sampling settings, with what the user typed on top.
            var configured = ExperimentComposition.RunSampling(sampler.Header, path);
            var options = overrides.Apply(result, configured) with { Churn = result.GetValue(churn) ?? configured.Churn, Class = result.GetValue(classId) ?? configured.Class };
            options.Validate();
            AnsiConsole.MarkupLineInterpolated($"[bold]{sampler.RunName}[/]: {seedList.Count} samples, {sampler.Mode.Describe()} sampler, {options.Steps} steps, {(sampler.UsesEma ? "EMA" : "raw")} weights on {Device.Parse(result.GetValue(device)!)}");
            if (sampler.IsConditional)
                AnsiConsole.MarkupLineInterpolated($"class-conditional ({sampler.Model.Network.LabelDim} classes): {(options.Class is { } k ? $"class {k}" : "balanced classes (seed mod classes)")}, guidance {options.Guidance}");
            ConsoleProgress.Run("sample", report =>
            {
                ShardedSampling.SampleTo(sampler, parallel, directory, seedList, options, result.GetValue(batch), result.GetValue(grid), result.GetValue(pngs), result.GetValue(seeds),
                    new ProgressRelay<SamplingProgress>(p => report(p.Done, p.Total)));
                return 0;
            });
            AnsiConsole.MarkupLineInterpolated($"samples: [bold]{directory}[/] ({SampleSet.TensorFile}, {SampleSet.NumpyFile}, {SampleSet.GridFile})");
            return CommandRunner.Success;
        });
        return command;
    }

    /// <summary>A checkpoint file, or the newest checkpoint of a run directory.</summary>
    internal static string ResolveCheckpoint(string path)
    {
        if (File.Exists(path)) return path;
        if (Directory.Exists(path))
            return Checkpoint.Latest(new RunDirectory(path).Checkpoints) ?? Checkpoint.Latest(path)
                ?? throw new FileNotFoundException($"{path}: no checkpoint-*.safetensors in it or in its checkpoints/ folder");
        throw new FileNotFoundException($"{path}: no such checkpoint file or run directory");
    }

    private static string DefaultOutput(string checkpointPath) => RunDirectory.Containing(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!).Samples;
}
