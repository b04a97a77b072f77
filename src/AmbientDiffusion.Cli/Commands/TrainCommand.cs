using System.CommandLine;
using AmbientDiffusion.Config;
using AmbientDiffusion.Training;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient train`: trains the model of a config on its corrupted dataset, into runs/&lt;name&gt;.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "The experiment's YAML config." };
        var runs = new Option<string>("--runs") { Description = "Folder that holds run directories.", DefaultValueFactory = _ => "runs" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the run's newest checkpoint (exactly where it stopped)." };
        var command = new Command("train", """
            Train a diffusion model on a corrupted dataset. Writes runs/<name>/: config.yaml (resolved),
            metrics.jsonl (one line per tick) and checkpoints/. Ctrl+C saves a checkpoint and exits.

            Examples:
              ambient train configs/quickstart.yaml
              ambient train configs/quickstart.yaml --resume
            """) { config, runs, resume };
        command.SetAction(result =>
        {
            var experiment = ConfigLoader.Load(result.GetValue(config)!);
            var runDirectory = Path.Combine(result.GetValue(runs)!, experiment.Name);
            if (!result.GetValue(resume) && Checkpoint.Latest(Path.Combine(runDirectory, "checkpoints")) is { } existing)
                throw new ArgumentException($"{runDirectory} already has checkpoints ({Path.GetFileName(existing)}): pass --resume to continue it, or choose another name");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
                AnsiConsole.MarkupLine("[yellow]interrupted: saving a checkpoint...[/]");
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                using var trainer = result.GetValue(resume) ? Trainer.Resume(experiment, runDirectory) : Trainer.Start(experiment, runDirectory);
                AnsiConsole.MarkupLineInterpolated($"[bold]{experiment.Name}[/]: {experiment.Loss.Kind} loss, {trainer.Model.parameter_count():N0} parameters on {trainer.Device}, from {trainer.ImagesSeen / 1000.0:0.###} kimg");
                ConsoleProgress.Run("train (kimg)", report =>
                {
                    var total = (int)Math.Ceiling(experiment.Training.DurationKimg * 1000);
                    trainer.Run(new CallbackProgress<TrainingProgress>(p => report((int)(p.Kimg * 1000), total)), cancel.Token);
                    return 0;
                });
                AnsiConsole.MarkupLineInterpolated($"run: [bold]{runDirectory}[/] ({trainer.Step} steps, {trainer.ImagesSeen / 1000.0:0.###} kimg, {trainer.SkippedSteps} skipped)");
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return CommandRunner.Success;
        });
        return command;
    }
}
