using AmbientDiffusion.Experiments;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

/// <summary>The trade-off table over several seeds: cells, their mean ± sd and error bars, and the order a reader
/// follows (each N's curve from the clean model to the most corrupted).</summary>
public sealed class FrontierSummaryTests
{
    private static FrontierRun Run(int n, double p, string loss, ulong seed, double flagged, double fd, ConfidenceInterval? flaggedInterval = null) =>
        new($"n{n}-p{p}-s{seed}", n, p, loss, seed,
            new Dictionary<(string, string), double> { [("ratio_below_third", "samples")] = flagged, [("eval_fd", "samples")] = fd },
            flaggedInterval is null ? new Dictionary<string, ConfidenceInterval>() : new Dictionary<string, ConfidenceInterval> { [SetMetrics.FlaggedShareKey] = flaggedInterval });

    [Fact]
    public void Seeds_of_one_cell_average_to_their_mean_and_sample_sd_and_cells_read_by_N_then_p()
    {
        var runs = new[]
        {
            Run(32, 0.6, "ambient", 0, 0.0, 90),
            Run(16, 0.6, "ambient", 1, 0.10, 60),
            Run(16, 0.0, "edm", 0, 0.70, 63, new ConfidenceInterval(0.6, 0.8, 0.95, 1000)),
            Run(16, 0.6, "ambient", 0, 0.02, 50),
        };
        var cells = FrontierSummary.Cells(runs);
        Assert.Equal([(16, 0.0, "edm"), (16, 0.6, "ambient"), (32, 0.6, "ambient")], cells.Select(c => (c.TrainingImages, c.P, c.Loss)));

        var twoSeeds = cells[1];
        Assert.Equal([0UL, 1UL], twoSeeds.Runs.Select(r => r.Seed));
        var (mean, sd, count) = twoSeeds.Stat("eval_fd");
        Assert.Equal(2, count);
        Assert.Equal(55, mean!.Value, 12);
        Assert.Equal(Math.Sqrt(50), sd!.Value, 12); // sample sd: ((5² + 5²) / (2 − 1))^½
        Assert.Equal(Math.Sqrt(0.0032), twoSeeds.Bar("ratio_below_third", SetMetrics.FlaggedShareKey)!.Value, 12);

        // One seed: no sd; its bar is half the run's bootstrap interval, and none without an interval.
        Assert.Null(cells[0].Stat("eval_fd").Sd);
        Assert.Equal(0.1, cells[0].Bar("ratio_below_third", SetMetrics.FlaggedShareKey)!.Value, 12);
        Assert.Null(cells[2].Bar("ratio_below_third", SetMetrics.FlaggedShareKey));
    }

    [Fact]
    public void A_cell_where_only_the_second_seed_has_a_number_shows_that_runs_interval()
    {
        var firstWithout = new FrontierRun("n16-p0.6-s0", 16, 0.6, "ambient", 0, new Dictionary<(string, string), double> { [("eval_fd", "samples")] = 50 },
            new Dictionary<string, ConfidenceInterval> { ["mia_loss_auc"] = new(0.1, 0.2, 0.95, 1000) });
        var second = Run(16, 0.6, "ambient", 1, 0.10, 60, new ConfidenceInterval(0.05, 0.25, 0.95, 1000));
        var cell = Assert.Single(FrontierSummary.Cells([firstWithout, second]));
        Assert.Equal(0.1, cell.Bar("ratio_below_third", SetMetrics.FlaggedShareKey)!.Value, 12);

        using var dir = new TempDir();
        FrontierSummary.Write([firstWithout, second], [], dir.Path);
        Assert.Contains(File.ReadAllLines(Path.Combine(dir.Path, "frontier.md")), l => l.StartsWith("| 16 | 0.6 | ambient | 2 | 0.1 [0.05, 0.25] |", StringComparison.Ordinal));
    }

    [Fact]
    public void The_table_states_mean_plus_minus_sd_for_several_seeds_and_the_interval_for_one()
    {
        using var dir = new TempDir();
        FrontierSummary.Write([Run(16, 0.6, "ambient", 0, 0.02, 50), Run(16, 0.6, "ambient", 1, 0.10, 60),
            Run(16, 0.0, "edm", 0, 0.70, 63, new ConfidenceInterval(0.6, 0.8, 0.95, 1000))], [], dir.Path);
        var lines = File.ReadAllLines(Path.Combine(dir.Path, "frontier.md"));
        var clean = Array.FindIndex(lines, l => l.StartsWith("| 16 | 0 | edm | 1 | 0.7 [0.6, 0.8] |", StringComparison.Ordinal));
        var ambient = Array.FindIndex(lines, l => l.StartsWith("| 16 | 0.6 | ambient | 2 | 0.06 ± 0.0566 |", StringComparison.Ordinal));
        Assert.True(clean >= 0 && ambient > clean, string.Join('\n', lines));
        Assert.Contains("| 55 ± 7.0711 |", lines[ambient], StringComparison.Ordinal);
        var csv = File.ReadAllLines(Path.Combine(dir.Path, "frontier.csv"));
        Assert.Equal(["\"n16-p0-s0\"", "\"n16-p0.6-s0\"", "\"n16-p0.6-s1\""], csv.Skip(1).Select(l => l.Split(',')[0]));
    }
}
