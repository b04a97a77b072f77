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

    /// <summary>Percent steps at which a non-interactive log may get a line.</summary>
    public const int PlainStep = 5;

    /// <summary>Least time between two lines of one stage in a non-interactive log (its last line excepted).</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/> with one bar per stage, each created at the stage's first report; in a
    /// non-interactive log (CI, <c>| tee</c>) with plain lines instead, at most one per <see cref="PlainInterval"/>
    /// and stage plus its last.</summary>
    public static T Stages<T>(Func<Action<string, double, double>, T> work)
    {
        // Spectre's fallback for redirected output re-prints every stage on each refresh; a log wants one line per update.
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive) return PlainLines(Console.Out, work, PlainInterval);
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

    /// <summary>Writes "stage: N% (elapsed)" to <paramref name="output"/> when a stage has crossed another
    /// <see cref="PlainStep"/>% at least <paramref name="interval"/> after its first report or its last line, and
    /// once when it reaches 100%; never the same line twice. A stage shorter than the interval gets one line, its
    /// last; with a zero interval every step gets a line. <paramref name="clock"/> (default: a stopwatch) is the time
    /// since the start.</summary>
    internal static T PlainLines<T>(TextWriter output, Func<Action<string, double, double>, T> work, TimeSpan interval, Func<TimeSpan>? clock = null)
    {
        var stages = new Dictionary<string, (int Step, TimeSpan Since)>();
        var stopwatch = Stopwatch.StartNew();
        var now = clock ?? (() => stopwatch.Elapsed);
        var gate = new object();
        return work((stage, done, total) =>
        {
            var percent = total > 0 ? (int)Math.Floor(100 * Math.Clamp(done / total, 0, 1)) : 100;
            var step = percent / PlainStep * PlainStep;
            lock (gate)
            {
                var time = now();
                // A stage's clock starts at its first report; nothing has been written for it yet (step -1).
                var (last, since) = stages.TryGetValue(stage, out var state) ? state : (-1, time);
                stages[stage] = (last, since);
                if (step <= last) return;
                if (step < 100 && time - since < interval) return;
                stages[stage] = (step, time);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage}: {step}% ({time:hh\\:mm\\:ss})"));
            }
        });
    }
}
