using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient launch`: data-parallel workers of this CLI on one machine, like torchrun --standalone.</summary>
internal static class LaunchCommand
{
    public static Command Create()
    {
        var nproc = new Option<int>("--nproc") { Description = "Worker processes (one per GPU, or a share of the CPU cores each).", Required = true };
        var output = new Option<bool>("--all-output") { Description = "Show every rank's output (default: rank 0's only)." };
        var port = new Option<int?>("--master-port") { Description = "Rendezvous port on 127.0.0.1 (default: a free one)." };
        var command = new Argument<string[]>("command") { Description = "The ambient command each worker runs, after --.", Arity = ArgumentArity.OneOrMore };
        var launch = new Command("launch", """
            Run an ambient command as N data-parallel workers on this machine. Each worker gets torchrun's
            variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and AMBIENT_NUM_THREADS = cores / N.
            training.batch_size stays the global batch: each worker trains on batch_size / N of it.
            If a worker fails, the others are stopped and the exit code is the failed worker's;
            Ctrl+C or SIGTERM reaches every worker: they stop after the same step, save a checkpoint and exit
            with 130 (SIGINT) or 143 (SIGTERM); resume with the same --nproc and --resume.
            em: the E-step's shards are shared out over the workers, each M-step trains as train does;
            rank 0 writes every output; rerun the same command (same --nproc) to continue.
            Several machines: see docs/distributed.md (torchrun or srun set the same variables).

            Examples:
              ambient launch --nproc 2 -- train configs/quickstart.yaml
              ambient launch --nproc 8 -- train configs/celeba64-ambient-p0.8.yaml --set device.type=cuda --resume
              ambient launch --nproc 2 -- sample -c runs/quickstart --seeds 0-9999 --overwrite
              ambient launch --nproc 2 -- em configs/em-smoke.yaml --runs runs/em
            """) { nproc, output, port, command };
        launch.SetAction(result =>
        {
            var count = result.GetValue(nproc);
            if (count < 1) throw new UserErrorException($"--nproc {count}: expected at least 1 worker");
            var arguments = result.GetValue(command)!;
            if (arguments.Length > 0 && arguments[0] == "launch") throw new UserErrorException("ambient launch cannot launch itself");
            CheckBeforeStart(arguments, count);
            var masterPort = result.GetValue(port) ?? FreeLoopbackPort();
            if (masterPort is < 1 or > 65535) throw new UserErrorException($"--master-port {masterPort}: expected 1..65535");
            AnsiConsole.MarkupLineInterpolated($"launch: {count} workers of `ambient {string.Join(' ', arguments)}`, rendezvous at 127.0.0.1:{masterPort}");
            // Ctrl+C or SIGTERM (SLURM, Kubernetes and `timeout` signal the launcher) is forwarded once to every worker:
            // they run in their own session and see neither the terminal's Ctrl+C nor a signal to the process group.
            // A second signal is forwarded too, and kills the workers; the launcher stays to report how they ended.
            WorkerGroup? group = null;
            using var stop = new StopOnSignal(signal => group?.Forward(signal));
            using var workers = group = WorkerGroup.Start(count, arguments, masterPort, result.GetValue(output));
            if (stop.Signal != 0) workers.Forward(stop.Signal); // it came while the workers were starting
            var (code, failure) = workers.Wait();
            if (failure is not null) AnsiConsole.MarkupLineInterpolated($"[red]launch:[/] {failure}");
            return code;
        });
        return launch;
    }

    /// <summary>
    /// What would make every worker fail, found before any starts: the worker command must parse, and a training
    /// command's config (<c>train</c>, or <c>em</c>, whose M-steps train) must load (validated as each worker would)
    /// with a global batch that the workers divide; an <c>em</c> config must have its em: section.
    /// </summary>
    internal static void CheckBeforeStart(string[] arguments, int workers)
    {
        var parse = AmbientCli.CreateRoot().Parse(arguments);
        if (parse.Errors.Count > 0)
            throw new UserErrorException($"launch: the worker command `ambient {string.Join(' ', arguments)}` is invalid: {parse.Errors[0].Message}");
        var name = parse.CommandResult.Command.Name;
        if (name is not ("train" or "em") || parse.GetValue<bool>("--dry-run")) return;
        var path = parse.GetValue<string>("config")!;
        var config = Config.ConfigLoader.Load(path, parse.GetValue<string[]>("--set") ?? []);
        if (name == "em") Em.EmSettings.Of(config, path);
        Training.DataParallel.LocalBatch(config.Training.BatchSize, workers);
    }

    /// <summary>A loopback port nobody listens on now (the launcher's rendezvous port; also used by the tests).</summary>
    internal static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
