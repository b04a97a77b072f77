using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient sweep`: runs every point of a config's sweep grid and summarises memorization against the grid.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var options = new ConfigOptions();
        var command = new Command("sweep", """
            Run a sweep: every combination of the values in sweep.grid, in order, each a full experiment
            (data, training, samples, memorization) in <runs>/<name>/<label>. Finished runs are skipped and
            interrupted ones resume, so rerunning the same command continues the sweep. After every run it
            rewrites summary.csv, summary.md, summary.svg and summary.png in <runs>/<name>.
            Ctrl+C (SIGINT) or SIGTERM checkpoints the current run and stops (exit 130 or 143); one sweep at a
            time writes <runs>/<name> (.lock). --dry-run lists the runs.

            Examples:
              ambient sweep configs/sweep-fmnist-masking.yaml
              ambient sweep configs/sweep-fmnist-masking.yaml --dry-run
              ambient sweep configs/sweep-celeba-masking.yaml --set device.type=cuda
            """);
        options.AddTo(command);
        command.SetAction(result =>
        {
            var config = options.Load(result);
            var points = SweepExpander.Expand(config);
            var runner = new SweepRunner(result.GetValue(options.Runs)!);
            var folder = runner.Folder(config);
            if (result.GetValue(options.DryRun))
            {
                Console.Write(ConfigLoader.ToYaml(config));
                Console.WriteLine($"# {points.Count} runs in {folder}:");
                foreach (var point in points) Console.WriteLine($"#   {point.Label}");
                return CommandRunner.Success;
            }
            CommandRunner.LogDirectory = folder;
            using var stop = new StopOnSignal();
            AnsiConsole.MarkupLineInterpolated($"[bold]{config.Name}[/]: {points.Count} runs in {folder}");
            ConsoleProgress.Stages(report =>
                runner.Run(config, new ProgressRelay<SweepProgress>(p => report($"{p.Run}/{p.Runs} {p.Label}: {p.Stage.Stage}", p.Stage.Done, p.Stage.Total)), stop.Token));
            AnsiConsole.MarkupLineInterpolated($"summary: [bold]{Path.Combine(folder, "summary.md")}[/] (summary.csv, summary.svg, summary.png)");
            return stop.Token.IsCancellationRequested ? stop.ExitCode : CommandRunner.Success;
        });
        return command;
    }
}
