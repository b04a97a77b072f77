using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>Renders library progress events as a Spectre progress bar (plain lines when the output is not a terminal).</summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a progress bar fed by (done, total) reports.</summary>
    public static T Run<T>(string description, Func<Action<int, int>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(description);
                result = work((done, total) =>
                {
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                });
                task.Value = task.MaxValue;
            });
        return result;
    }
}

/// <summary>Adapts a report callback to IProgress without a synchronization context hop.</summary>
internal sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
