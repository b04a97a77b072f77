using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>Renders library progress events as Spectre progress bars (plain lines when the output is not a terminal).</summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a progress bar fed by (done, total) reports.</summary>
    public static T Run<T>(string description, Func<Action<int, int>, T> work) =>
        Stages((report) => work((done, total) => report(description, done, total)));

    /// <summary>Runs <paramref name="work"/> with one bar per stage, each created at the stage's first report.</summary>
    public static T Stages<T>(Func<Action<string, double, double>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = work((stage, done, total) =>
                {
                    if (!tasks.TryGetValue(stage, out var task)) tasks[stage] = task = context.AddTask(Markup.Escape(stage));
                    task.MaxValue = Math.Max(1e-9, total);
                    task.Value = Math.Min(done, task.MaxValue);
                });
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            });
        return result;
    }
}
