using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Loops;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient loop`: a self-consuming loop, generation after generation, with per-generation metrics and a summary.</summary>
internal static class LoopCommand
{
    public static Command Create()
    {
        var options = new ConfigOptions();
        var command = new Command("loop", """
            Run a self-consuming loop (the config's loop: section): generation 1 trains on real images, each later
            generation on the mix the loop type defines (fully_synthetic, augment, fresh, accumulate) of real images
            and earlier generations' samples, optionally as noisy data (synthetic_as: noisy, the ambient arm). Each
            generation is a run directory in <runs>/<name>/seed-<seed>/gen-NN with its samples, evaluation against
            held-out real images and memorization of its own training set. Finished generations are skipped and an
            interrupted one resumes, so rerunning the same command continues the loop. After every generation it
            rewrites loop.md, loop.csv and one chart per metric (one line per arm) in <runs>.
            Ctrl+C (SIGINT) or SIGTERM checkpoints the current generation and stops (exit 130 or 143); one loop at
            a time writes <runs>/<name>/seed-<seed> (.lock).

            Examples:
              ambient loop configs/loop-fmnist-fully-synthetic.yaml --runs runs/loop-fmnist
              ambient loop configs/loop-fmnist-augment.yaml --runs runs/loop-fmnist --set seed=1
            """);
        options.AddTo(command);
        command.SetAction(result =>
        {
            var config = options.Load(result);
            if (options.PrintIfDryRun(result, config)) return CommandRunner.Success;
            var runs = result.GetValue(options.Runs)!;
            var runner = new LoopRunner(runs);
            var layout = runner.Layout(config);
            CommandRunner.LogDirectory = layout.Folder;
            using var stop = new StopOnSignal();
            if (config.Loop is null) throw new Config.ConfigException($"{result.GetValue(options.Config)}: no loop section: `ambient loop` needs a loop: section (see docs/self-consuming-loops.md)", "loop");
            AnsiConsole.MarkupLineInterpolated($"[bold]{config.Name}[/]: {config.Loop.Generations} generations ({Yaml.EnumName(config.Loop.Type)}) in {layout.Folder}");
            var outcome = ConsoleProgress.Stages(report =>
                runner.Run(config, new ProgressRelay<LoopProgress>(p => report($"generation {p.Generation}/{p.Generations}: {p.Stage.Stage}", p.Stage.Done, p.Stage.Total)), stop.Token));
            AnsiConsole.MarkupLineInterpolated($"{outcome.Finished}/{config.Loop.Generations} generations finished; summary: [bold]{Path.Combine(runs, "loop.md")}[/] (loop.csv, loop-<metric>.png)");
            return stop.Token.IsCancellationRequested ? stop.ExitCode : CommandRunner.Success;
        });
        return command;
    }
}
