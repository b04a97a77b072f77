using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Training;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient train`: runs an experiment end to end: data, training on the corrupted data only, samples, memorization report.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var options = new ConfigOptions();
        var resume = new Option<bool>("--resume") { Description = "Continue the run from its newest checkpoint (exactly where it stopped)." };
        var command = new Command("train", """
            Run an experiment: prepare and corrupt the data once (cached in <runs>/data), train on the corrupted
            images only, then draw samples (sampling:) and analyze their memorization (memorization:).
            Writes <runs>/<name>/: config.yaml (resolved; device.bf16: auto becomes true or false), inputs.json,
            metrics.jsonl, checkpoints/, samples/, story.png (what the model saw beside what it generates), report/.
            Finished stages are skipped on --resume. Ctrl+C (SIGINT) and SIGTERM save a checkpoint and exit with
            code 130 and 143; --resume continues exactly. Only one process writes a run directory (<run>/.lock).

            Examples:
              ambient train configs/quickstart.yaml
              ambient train configs/quickstart.yaml --resume
              ambient train configs/quickstart.yaml --set corruption.p=0.8 --set name=p08
              ambient train configs/celeba64-ambient-p0.8.yaml --dry-run
            """);
        options.AddTo(command);
        command.Add(resume);
        command.SetAction(result =>
        {
            var config = options.Load(result);
            // device.bf16: auto becomes true or false once per run, by the runner (which times both on a CPU with native
            // bf16); the run's config.yaml, inputs.json and checkpoints record it. A dry run shows the flag rule.
            var dryRun = result.GetValue(options.DryRun);
            var precision = dryRun ? ExperimentComposition.ResolvePrecision(config) : config.Device.DecideBf16(CpuCapabilities.Probe());
            var precisionLine = $"precision: {(precision.Enabled ? "bf16 autocast" : "float32")} ({precision.Reason})";
            // A YAML comment keeps the dry run's output a valid config.
            if (dryRun) Console.WriteLine($"# {precisionLine}");
            if (options.PrintIfDryRun(result, config)) return CommandRunner.Success;
            // A worker of `ambient launch`, torchrun or srun (WORLD_SIZE set) joins its job; otherwise a single process.
            using var parallel = DataParallel.FromEnvironment(Torch.Device.Parse(config.Device.Type));
            var runner = new ExperimentRunner(result.GetValue(options.Runs)!)
            {
                Parallel = parallel,
                Precision = new ProgressRelay<Bf16Decision>(measured =>
                {
                    // Printed again only when the run decided otherwise than the line above (measured, or kept on resume).
                    if (measured.Reason != precision.Reason) AnsiConsole.MarkupLineInterpolated($"precision: {(measured.Enabled ? "bf16 autocast" : "float32")} ({measured.Reason})");
                }),
            };
            var runDirectory = Path.Combine(runner.RunsRoot, config.Name);
            CommandRunner.LogDirectory = runDirectory;
            using var stop = new StopOnSignal();
            AnsiConsole.MarkupLineInterpolated($"[bold]{config.Name}[/]: {Common.Yaml.EnumName(config.Loss.Kind)} loss, {config.Training.DurationKimg} kimg on {config.Device.Type}; run directory {runDirectory}");
            AnsiConsole.MarkupLineInterpolated($"{precisionLine}");
            if (precision.Enabled && Torch.Device.Parse(config.Device.Type).Type == Torch.DeviceType.CPU && !CpuCapabilities.Probe().HasNativeBf16)
                AnsiConsole.MarkupLine("[yellow]warning:[/] device.bf16 on a CPU without native bf16 (AVX512-BF16 or AMX): autocast will run slower than float32");
            var outcome = ConsoleProgress.Stages(report => runner.Run(config, runDirectory, result.GetValue(resume),
                new ProgressRelay<ExperimentProgress>(p => report(p.Stage, p.Done, p.Total)), stop.Token));
            return Finish(outcome, stop.ExitCode);
        });
        return command;
    }

    internal static int Finish(ExperimentResult outcome, int stoppedCode)
    {
        var run = outcome.Run;
        if (outcome.Cancelled)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]stopped at {outcome.Kimg:0.###} kimg; checkpoint saved in {run.Checkpoints}. Continue with --resume.[/]");
            return stoppedCode;
        }
        AnsiConsole.MarkupLineInterpolated($"run:     [bold]{run.Path}[/] ({outcome.Step} steps, {outcome.Kimg:0.###} kimg)");
        AnsiConsole.MarkupLineInterpolated($"data:    {outcome.Inputs.Corrupted} (preview: {Path.ChangeExtension(outcome.Inputs.Corrupted, ".preview.png")})");
        if (outcome.Sampled) AnsiConsole.MarkupLineInterpolated($"samples: [bold]{run.Samples}[/] (grid.png, samples.safetensors, samples.npz)");
        if (outcome.Sampled && File.Exists(run.Story)) AnsiConsole.MarkupLineInterpolated($"story:   [bold]{run.Story}[/] (what the model saw beside what it generates)");
        if (outcome.Analyzed) AnsiConsole.MarkupLineInterpolated($"report:  [bold]{Path.Combine(run.Report, "report.html")}[/] (report.json, neighbors.png)");
        return CommandRunner.Success;
    }
}
