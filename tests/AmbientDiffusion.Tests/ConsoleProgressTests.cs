using AmbientDiffusion.Cli;

namespace AmbientDiffusion.Tests;

/// <summary>Progress in a non-interactive log: lines rate-limited by time, never a re-print of every stage.</summary>
public class ConsoleProgressTests
{
    [Fact]
    public void Without_a_time_limit_a_log_gets_one_line_per_stage_and_step_and_no_repeats()
    {
        using var output = new StringWriter();
        var result = ConsoleProgress.PlainLines(output, report =>
        {
            report("prepare", 1, 1);
            for (var i = 0; i <= 1000; i++) report("train", i, 1000);
            report("prepare", 1, 1);
            report("sample", 3, 3);
            return 42;
        }, TimeSpan.Zero);
        Assert.Equal(42, result);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]).ToList();
        var expected = new List<string> { "prepare: 100%" };
        expected.AddRange(Enumerable.Range(0, 100 / ConsoleProgress.PlainStep + 1).Select(k => $"train: {k * ConsoleProgress.PlainStep}%"));
        expected.Add("sample: 100%");
        Assert.Equal(expected, lines);
    }

    /// <summary>Feeds <paramref name="reports"/> evenly spread over <paramref name="seconds"/> of a fake clock to one stage.</summary>
    private static List<string> Log(string stage, int reports, double seconds)
    {
        using var output = new StringWriter();
        var now = TimeSpan.Zero;
        ConsoleProgress.PlainLines(output, report =>
        {
            for (var i = 0; i <= reports; i++)
            {
                now = TimeSpan.FromSeconds(seconds * i / reports);
                report(stage, i, reports);
            }
            return 0;
        }, ConsoleProgress.PlainInterval, () => now);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    [Fact]
    public void A_one_second_stage_in_a_log_prints_one_line()
    {
        Assert.Equal(["prepare: 100% (00:00:01)"], Log("prepare", 1000, 1));
    }

    [Fact]
    public void A_long_stage_in_a_log_prints_at_most_one_line_per_interval_and_its_last()
    {
        var lines = Log("train", 6000, 60);
        Assert.Equal("train: 100% (00:01:00)", lines[^1]);
        // 60 s at one line per 10 s at most, plus the last line.
        Assert.InRange(lines.Count, 5, (int)(60 / ConsoleProgress.PlainInterval.TotalSeconds) + 1);
        var times = lines.Select(l => TimeSpan.Parse(l[(l.IndexOf('(', StringComparison.Ordinal) + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (var i = 1; i < times.Count - 1; i++) Assert.True(times[i] - times[i - 1] >= ConsoleProgress.PlainInterval, string.Join(" | ", lines));
    }
}
