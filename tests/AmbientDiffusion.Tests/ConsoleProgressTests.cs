using AmbientDiffusion.Cli;

namespace AmbientDiffusion.Tests;

/// <summary>Progress in a non-interactive log: one line per stage and step, never a re-print of every stage.</summary>
public class ConsoleProgressTests
{
    [Fact]
    public void A_log_gets_one_line_per_stage_and_step_and_no_repeats()
    {
        using var output = new StringWriter();
        var result = ConsoleProgress.PlainLines(output, report =>
        {
            report("prepare", 1, 1);
            for (var i = 0; i <= 1000; i++) report("train", i, 1000);
            report("prepare", 1, 1);
            report("sample", 3, 3);
            return 42;
        });
        Assert.Equal(42, result);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.IndexOf(" (", StringComparison.Ordinal)]).ToList();
        var expected = new List<string> { "prepare: 100%" };
        expected.AddRange(Enumerable.Range(0, 100 / ConsoleProgress.PlainStep + 1).Select(k => $"train: {k * ConsoleProgress.PlainStep}%"));
        expected.Add("sample: 100%");
        Assert.Equal(expected, lines);
    }
}
