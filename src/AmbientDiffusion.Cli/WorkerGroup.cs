using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Cli;

/// <summary>
/// N worker processes of this same CLI on one machine, started with torchrun's variables (RANK, WORLD_SIZE,
/// LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT) and AMBIENT_NUM_THREADS = cores / N unless it is set. Their output
/// is forwarded line by line with a "[rank R]" prefix (rank 0's only, or all); the first worker that fails stops the
/// others (SIGINT, then a kill after a grace period), and the group's exit code is that worker's. A SIGINT or SIGTERM
/// the launcher receives is forwarded to every worker, and the group exits with the code they stopped with.
/// </summary>
internal sealed class WorkerGroup : IDisposable
{
    /// <summary>How long workers get to save and exit after SIGINT before they are killed (when one failed).</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    private readonly Process[] _workers;
    private readonly bool _allOutput;
    private readonly Lock _console = new();

    private WorkerGroup(Process[] workers, bool allOutput) => (_workers, _allOutput) = (workers, allOutput);

    /// <summary>Starts <paramref name="count"/> workers running <c>ambient <paramref name="arguments"/></c>.</summary>
    public static WorkerGroup Start(int count, IReadOnlyList<string> arguments, int port, bool allOutput)
    {
        var threads = Math.Max(1, Environment.ProcessorCount / count);
        var workers = new Process[count];
        var group = new WorkerGroup(workers, allOutput);
        for (var rank = 0; rank < count; rank++)
        {
            var start = SelfStartInfo(arguments);
            var variables = new torch.distributed.LaunchEnvironment(rank, count, rank, "127.0.0.1", port).ToVariables();
            foreach (var (key, value) in variables) start.Environment[key] = value;
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AMBIENT_NUM_THREADS")))
                start.Environment["AMBIENT_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            var worker = new Process { StartInfo = start, EnableRaisingEvents = true };
            var prefix = $"[rank {rank}] ";
            var show = allOutput || rank == 0;
            worker.OutputDataReceived += (_, e) => group.Forward(e.Data, prefix, show, Console.Out);
            worker.ErrorDataReceived += (_, e) => group.Forward(e.Data, prefix, show, Console.Error);
            worker.Start();
            worker.BeginOutputReadLine();
            worker.BeginErrorReadLine();
            workers[rank] = worker;
            group.Say($"launch: rank {rank} is process {worker.Id}");
        }
        return group;
    }

    /// <summary>Waits until every worker exits or one fails (then stops the others); returns the exit code and a
    /// message naming the failed rank, or 0 and null.</summary>
    public (int ExitCode, string? Failure) Wait()
    {
        var remaining = Enumerable.Range(0, _workers.Length).ToHashSet();
        while (remaining.Count > 0)
        {
            var exited = remaining.FirstOrDefault(r => _workers[r].HasExited, -1);
            if (exited < 0)
            {
                Thread.Sleep(100);
                continue;
            }
            remaining.Remove(exited);
            _workers[exited].WaitForExit();
            var code = _workers[exited].ExitCode;
            // After a forwarded signal every worker saves and exits with 130 or 143; that is no failure to stop the others for.
            if (code == 0 || (CommandRunner.IsStop(code) && _signalled)) continue;
            // A lost worker makes its peers fail within milliseconds; give them a moment so that the report names
            // the rank that went first (killed by a signal) rather than a peer that only noticed it.
            Thread.Sleep(500);
            var failed = Enumerable.Range(0, _workers.Length).Where(r => _workers[r].HasExited && _workers[r].ExitCode != 0)
                .OrderByDescending(r => _workers[r].ExitCode > 128 && !CommandRunner.IsStop(_workers[r].ExitCode)).ThenBy(r => r).ToList();
            var failure = string.Join("; ", failed.Select(r => $"rank {r} (process {_workers[r].Id}) exited with code {_workers[r].ExitCode}{Describe(_workers[r].ExitCode)}"));
            var running = Enumerable.Range(0, _workers.Length).Where(r => !_workers[r].HasExited).ToList();
            if (running.Count > 0) Say($"launch: {failure}; stopping ranks {string.Join(", ", running)}");
            StopAll();
            return (_workers[failed[0]].ExitCode, failure);
        }
        // Stopped workers that all saved and exited: the launcher reports the stop like one process would.
        return (_workers.Select(w => w.ExitCode).FirstOrDefault(CommandRunner.IsStop, 0), null);
    }

    private static string Describe(int code) => code switch
    {
        CommandRunner.Interrupted => " (interrupted)",
        CommandRunner.Terminated => " (stopped by SIGTERM)",
        > 128 and < 160 => string.Create(CultureInfo.InvariantCulture, $" (killed by signal {code - 128})"),
        _ => "",
    };

    private void StopAll()
    {
        if (!_signalled) Signal(Sigint);
        var deadline = DateTime.UtcNow + StopGrace;
        foreach (var worker in _workers)
        {
            var left = deadline - DateTime.UtcNow;
            if (!worker.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero)) worker.Kill(entireProcessTree: true);
        }
        foreach (var worker in _workers) worker.WaitForExit();
    }

    private const int Sigint = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    // Workers run in their own session (setsid), so the terminal's Ctrl+C reaches the launcher alone and each worker
    // gets exactly one signal from here: a second one would kill it before it saves its checkpoint.
    private volatile bool _signalled;

    /// <summary>Sends <paramref name="signal"/> (2 or 15) to every running worker.</summary>
    public void Forward(int signal) => Signal(signal);

    private void Signal(int signal)
    {
        _signalled = true;
        foreach (var worker in _workers)
            if (!worker.HasExited) SendSignal(worker.Id, signal);
    }

    private void Forward(string? line, string prefix, bool show, TextWriter target)
    {
        if (line is null || !show) return;
        lock (_console) target.WriteLine(prefix + line);
    }

    private void Say(string line)
    {
        lock (_console) Console.Error.WriteLine(line);
    }

    // This CLI again (`dotnet ambient.dll ...` through the dotnet host, the apphost otherwise), under setsid, which
    // execs it in place (the process id stays the worker's).
    private static ProcessStartInfo SelfStartInfo(IReadOnlyList<string> arguments)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        var start = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(WorkerGroup).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            if (!worker.HasExited) worker.Kill(entireProcessTree: true);
            worker.Dispose();
        }
    }
}
