using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient synthesize`: exports a class-conditional model's samples as a labelled synthetic dataset.</summary>
internal static class SynthesizeCommand
{
    public static Command Create()
    {
        var defaults = new SamplingSettings();
        var synthetic = new SyntheticOptions(1);
        var run = new Argument<string>("run") { Description = "A run directory (its newest checkpoint) or a checkpoint file of a class-conditional model." };
        var perClass = new Option<int>("--per-class") { Description = "Starting noises per class (each gives --views images).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: class folders of PNGs, synthetic.npz and manifest.json.", Required = true };
        var overrides = new RunSamplingOverrides();
        var views = new Option<int>("--views") { Description = "Images per starting noise, from nearby noises (x_T + s*eps_v)/sqrt(1+s^2); groups in synthetic.npz.", DefaultValueFactory = _ => synthetic.Views };
        var viewScale = new Option<double>("--view-scale") { Description = "s, the size of the nearby-noise perturbation (with --views above 1).", DefaultValueFactory = _ => synthetic.ViewScale };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "The first base seed; base seed s is drawn for class s mod classes.", DefaultValueFactory = _ => synthetic.FirstSeed };
        var batch = new Option<int>("--batch") { Description = "Samples per network call; does not change the samples.", DefaultValueFactory = _ => defaults.BatchSize };
        var raw = new Option<bool>("--raw") { Description = "Use the raw training weights instead of the EMA." };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => new DeviceSettings().Type };
        var command = new Command("synthesize", """
            Export a labelled synthetic dataset from a class-conditional model: per class, --per-class starting
            noises (times --views images each), sampled with classifier-free guidance. Writes an ImageFolder tree
            (one folder of PNGs per class name; `ambient prepare --source DIR` reads it as a labelled source),
            synthetic.npz (images uint8 N,H,W,C; labels int64 N; groups int64 N with --views) and manifest.json
            (checkpoint SHA-256, guidance, steps, seeds, counts).

            Examples:
              ambient synthesize runs/fmnist-conditional-ambient-p0.6 --per-class 100 -o synthetic/
              ambient synthesize runs/fmnist-conditional-clean --per-class 50 --guidance 2 --views 2 -o views/
            """) { run, perClass, output, overrides.Guidance, views, viewScale, firstSeed, overrides.Steps, overrides.SigmaMin, batch, raw, device };
        command.SetAction(result =>
        {
            var path = SampleCommand.ResolveCheckpoint(result.GetValue(run)!);
            var directory = result.GetValue(output)!;
            OutputPath.CheckFolder(directory, "--out");
            var target = Device.Parse(result.GetValue(device)!);
            using var sampler = CheckpointSampler.Load(path, target, ema: !result.GetValue(raw));
            var configured = ExperimentComposition.RunSampling(sampler.Header, path);
            var options = overrides.Apply(result, configured) with { Class = null };
            options.Validate();
            var spec = new SyntheticOptions(result.GetValue(perClass), result.GetValue(firstSeed), result.GetValue(views), result.GetValue(viewScale));
            spec.Validate();
            AnsiConsole.MarkupLineInterpolated($"[bold]{sampler.RunName}[/]: {spec.PerClass} x {spec.Views} images per class, guidance {options.Guidance}, {options.Steps} steps, {(sampler.UsesEma ? "EMA" : "raw")} weights on {target}");
            SyntheticManifest? manifest = null;
            ConsoleProgress.Run("synthesize", report =>
            {
                manifest = SyntheticExport.Write(sampler, spec, options, result.GetValue(batch), directory, new ProgressRelay<SamplingProgress>(p => report(p.Done, p.Total)));
                return 0;
            });
            AnsiConsole.MarkupLineInterpolated($"synthetic dataset: [bold]{directory}[/] ({manifest!.Count} images in {manifest.Classes.Count} class folders, {SyntheticManifest.NumpyFile}, {SyntheticManifest.FileName})");
            return CommandRunner.Success;
        });
        return command;
    }
}
