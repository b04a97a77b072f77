using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>Turns the first Ctrl+C into a cancellation (training saves a checkpoint and returns); a second one kills.</summary>
internal sealed class CancelOnCtrlC : IDisposable
{
    private readonly CancellationTokenSource _source = new();

    public CancelOnCtrlC() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _source.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested) return;
        e.Cancel = true;
        _source.Cancel();
        AnsiConsole.MarkupLine("[yellow]interrupted: saving a checkpoint (Ctrl+C again to kill)...[/]");
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }
}
