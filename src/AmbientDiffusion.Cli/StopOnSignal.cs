using System.Diagnostics;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl+C) or SIGTERM into a cancellation: training finishes its step, saves a checkpoint and
/// returns, and the command exits with 128 + the signal's number (130, 143). SIGTERM matters as much as Ctrl+C: SLURM
/// (on preemption and at the time limit), Kubernetes and `timeout` send it first and kill only after a grace period.
/// A later signal takes its default action and kills, unless it comes within <see cref="DuplicateWindow"/> of the first:
/// one stop often arrives twice (SLURM signals every process of a job step while srun, torchrun or `ambient launch`
/// forward the same signal), and the copy must not kill a process that is saving its checkpoint. The launcher instead
/// forwards every signal to its workers (<see cref="StopOnSignal(Action{int})"/>) and stays to report how they ended.
/// SIGHUP keeps its default: `nohup` ignores it on purpose, and a handler here would undo that.
/// </summary>
internal sealed class StopOnSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Action<int>? _forward;
    private int _signal;
    private long _firstAt;

    /// <summary>Signals this soon after the first are copies of it, not a request to kill.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromSeconds(2);

    /// <summary>Stops on the first signal; a later one kills.</summary>
    public StopOnSignal() : this(null)
    {
    }

    /// <summary>Passes every signal's number to <paramref name="forward"/> and never takes the default action.</summary>
    public StopOnSignal(Action<int>? forward)
    {
        _forward = forward;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The signal's number (2 or 15), 0 before one arrived.</summary>
    public int Signal => Volatile.Read(ref _signal);

    /// <summary>The exit code of a command this signal stopped: 130 after SIGINT, 143 after SIGTERM.</summary>
    public int ExitCode => ExitCodeOf(Signal);

    /// <summary>The exit code of the last command stopped by a signal in this process (for errors that unwind past the
    /// command, like a cancelled data preparation); 0 when none was.</summary>
    public static int LastExitCode => Volatile.Read(ref s_lastExitCode);

    private static int s_lastExitCode;

    /// <summary>Forgets an earlier command's signal (several commands run in one test process).</summary>
    public static void Reset() => Volatile.Write(ref s_lastExitCode, 0);

    internal static int ExitCodeOf(int signal) => signal == Sigterm ? CommandRunner.Terminated : CommandRunner.Interrupted;

    private const int Sigint = 2, Sigterm = 15;

    private void OnSignal(PosixSignalContext context)
    {
        var number = context.Signal == PosixSignal.SIGTERM ? Sigterm : Sigint;
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstAt, now, 0); // set before the signal, so that a copy never sees it unset
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
        {
            if (Stopwatch.GetElapsedTime(Volatile.Read(ref _firstAt), now) < DuplicateWindow)
            {
                context.Cancel = true;
                return;
            }
            // A later signal is forwarded again by the launcher, and left to its default action (it kills) elsewhere.
            if (_forward is null) return;
            context.Cancel = true;
            _forward(number);
            return;
        }
        context.Cancel = true;
        if (_forward is not null)
        {
            _forward(number);
            return;
        }
        Volatile.Write(ref s_lastExitCode, ExitCodeOf(number));
        _source.Cancel();
        var name = number == Sigterm ? "SIGTERM" : "Ctrl+C";
        AnsiConsole.MarkupLineInterpolated($"[yellow]{name}: stopping after this step and saving a checkpoint (signal again to kill)...[/]");
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _source.Dispose();
    }
}
