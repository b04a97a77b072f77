using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>Renders library progress events as Spectre progress bars (plain lines when the output is not a terminal).</summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a progress bar fed by (done, total) reports.</summary>
    public static T Run<T>(string description, Func<Action<int, int>, T> work) =>
        Stages((report) => work((done, total) => report(description, done, total)));

    /// <summary>Percent steps at which a non-interactive log gets a line.</summary>
    public const int PlainStep = 5;

    /// <summary>Runs <paramref name="work"/> with one bar per stage, each created at the stage's first report; in a
    /// non-interactive log (CI, <c>| tee</c>) with one line per stage and <see cref="PlainStep"/>% instead.</summary>
    public static T Stages<T>(Func<Action<string, double, double>, T> work)
    {
        // Spectre's fallback for redirected output re-prints every stage on each refresh; a log wants one line per update.
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive) return PlainLines(Console.Out, work);
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

    /// <summary>Writes "stage: N% (elapsed)" to <paramref name="output"/> when a stage first reports and each time it
    /// crosses another <see cref="PlainStep"/>%, never the same line twice.</summary>
    internal static T PlainLines<T>(TextWriter output, Func<Action<string, double, double>, T> work)
    {
        var written = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        var gate = new object();
        return work((stage, done, total) =>
        {
            var percent = total > 0 ? (int)Math.Floor(100 * Math.Clamp(done / total, 0, 1)) : 100;
            var step = percent / PlainStep * PlainStep;
            lock (gate)
            {
                if (written.TryGetValue(stage, out var last) && last >= step) return;
                written[stage] = step;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage}: {step}% ({clock.Elapsed:hh\\:mm\\:ss})"));
            }
        });
    }
}
