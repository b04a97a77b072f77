using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Em;
using AmbientDiffusion.Training;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient em`: expectation–maximization from corrupted observations, round after round, with per-round metrics and a summary.</summary>
internal static class EmCommand
{
    public static Command Create()
    {
        var options = new ConfigOptions();
        var command = new Command("em", """
            Learn a diffusion prior from the corrupted observations by expectation-maximization (the config's em:
            section; Rozet et al. 2024). Round k's E-step draws posterior samples of every observation under round
            k-1's model (MMPS or DPS with the observation's own mask and noise level; round 0: the Gaussian fitted to
            the observations, or em.checkpoint's model), its M-step trains plain EDM on them (warm start from round
            k-1). Each round is a run directory <runs>/<name>/round-NN with its posterior samples
            (posterior.safetensors, posterior.png), checkpoints, samples, evaluation against held-out images and
            memorization of the clean training images. Finished rounds are skipped, an interrupted E-step resumes
            shard by shard and training from its checkpoint, so rerunning the same command continues. After every
            round it rewrites em.md, em.csv and one chart per metric in <runs>/<name>.
            Ctrl+C (SIGINT) or SIGTERM stops after the current shard or checkpoint (exit 130 or 143); one EM run at a
            time writes <runs>/<name> (.lock).
            Under `ambient launch --nproc N` the E-step's shards are shared out over the N workers and each M-step
            trains data-parallel (training.batch_size is the global batch); rank 0 writes every output.

            Examples:
              ambient em configs/em-smoke.yaml --runs runs/em
              ambient em configs/em-fmnist-gaussian.yaml --runs runs/em --set seed=1 --set name=em-fmnist-gaussian-s1
              ambient launch --nproc 2 -- em configs/em-smoke.yaml --runs runs/em
            """);
        options.AddTo(command);
        command.SetAction(result =>
        {
            var config = options.Load(result);
            if (options.PrintIfDryRun(result, config)) return CommandRunner.Success;
            var settings = EmSettings.Of(config, result.GetValue(options.Config)!);
            var runs = result.GetValue(options.Runs)!;
            // A worker of `ambient launch`, torchrun or srun (WORLD_SIZE set) joins its job; otherwise a single process.
            using var parallel = DataParallel.FromEnvironment(Torch.Device.Parse(config.Device.Type));
            var runner = new EmRunner(runs) { Parallel = parallel };
            var layout = runner.Layout(config);
            CommandRunner.LogDirectory = layout.Folder;
            using var stop = new StopOnSignal();
            AnsiConsole.MarkupLineInterpolated($"[bold]{config.Name}[/]: {settings.Rounds} EM rounds (init {Yaml.EnumName(settings.Init)}) in {layout.Folder}");
            var outcome = ConsoleProgress.Stages(report =>
                runner.Run(config, new ProgressRelay<EmProgress>(p => report($"round {p.Round}/{p.Rounds - 1}: {p.Stage.Stage}", p.Stage.Done, p.Stage.Total)), stop.Token));
            AnsiConsole.MarkupLineInterpolated($"{outcome.Finished}/{settings.Rounds} rounds finished; summary: [bold]{Path.Combine(layout.Folder, "em.md")}[/] (em.csv, em-<metric>.png)");
            return stop.Token.IsCancellationRequested ? stop.ExitCode : CommandRunner.Success;
        });
        return command;
    }
}
