using System.Diagnostics;
using System.Runtime.InteropServices;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>A running `dotnet ambient.dll ...` (the CLI next to the tests) whose output is collected line by line, and
/// which can be sent a real signal.</summary>
internal sealed class AmbientProcess : IDisposable
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "ambient.dll");

    private readonly Process _process;
    private readonly List<string> _lines = [];

    public AmbientProcess(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Cli);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        start.Environment["AMBIENT_NUM_THREADS"] = "1";
        start.Environment[DataParallel.TimeoutVariable] = "20";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The process id (`dotnet ambient.dll` runs the CLI in this very process).</summary>
    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
    }

    /// <summary>The output on one line, whitespace collapsed (the console wraps long lines at 80 columns).</summary>
    public string Flat => System.Text.RegularExpressions.Regex.Replace(Output, @"\s+", " ");

    public string Output
    {
        get
        {
            lock (_lines) return string.Join('\n', _lines);
        }
    }

    public const int Sigterm = 15, Sigkill = 9;

    /// <summary>Sends <paramref name="signal"/> with kill(2), as SLURM, Kubernetes or `timeout` would.</summary>
    public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

    /// <summary>Waits until <paramref name="condition"/> holds, failing with the output after <paramref name="timeout"/>
    /// or when the process exits first.</summary>
    public void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (_process.HasExited) Assert.Fail($"ambient exited with {_process.ExitCode} before {what}:\n{Output}");
            if (clock.Elapsed > timeout) Assert.Fail($"not {what} within {timeout.TotalSeconds} s:\n{Output}");
            Thread.Sleep(20);
        }
    }

    public int Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"ambient did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
