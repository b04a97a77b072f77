using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Rounds;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>
/// The summary of every loop under a runs folder (runs/&lt;arm&gt;/seed-&lt;seed&gt;): <c>loop.csv</c> (one row per arm,
/// seed and generation), <c>loop.md</c> (per arm and generation the mean ± standard deviation over seeds) and one chart
/// per metric against the generation, one line per arm (the mean over its seeds with a ± sd band, named without the
/// arms' common name prefix; <c>loop-&lt;metric&gt;.svg</c> and <c>.png</c>). The metrics are read from each generation's report (<see cref="SweepSummary.Read"/>): FD, KID,
/// precision, recall, density and coverage in the evaluation space against held-out real images, and the memorization
/// of the generation's own training set, and the CAS when configured. Generations not finished yet are left out.
/// </summary>
public static class LoopSummary
{
    /// <summary>The metrics, in column order: every round's, then the CAS (read from the CAS report).</summary>
    public static readonly IReadOnlyList<RoundMetric> Metrics =
    [
        .. RoundMetrics.Quality,
        new("cas", "", "CAS (synthetic-only top-1 on real test images)"),
        new("cas_over_real", "", "CAS / real-only accuracy"),
    ];

    /// <summary>One finished generation of one loop.</summary>
    public sealed record Row(string Arm, ulong Seed, int Generation, int TrainingImages, IReadOnlyDictionary<string, double> Values);

    /// <summary>Reads every finished generation under <paramref name="runsFolder"/>.</summary>
    public static List<Row> Read(string runsFolder)
    {
        var rows = new List<Row>();
        if (!Directory.Exists(runsFolder)) return rows;
        foreach (var arm in Directory.GetDirectories(runsFolder).OrderBy(d => d, StringComparer.Ordinal))
            foreach (var seedFolder in Directory.GetDirectories(arm, "seed-*").OrderBy(d => d, StringComparer.Ordinal))
            {
                var layout = new LoopLayout(seedFolder);
                if (!File.Exists(layout.Config)) continue;
                var config = ConfigLoader.Parse(File.ReadAllText(layout.Config), layout.Config);
                for (var k = 1; k <= (config.Loop?.Generations ?? 0); k++)
                {
                    var run = layout.Generation(k);
                    var marker = LoopLayout.Marker(run);
                    if (!File.Exists(marker)) continue;
                    using var json = JsonDocument.Parse(File.ReadAllBytes(marker));
                    var images = json.RootElement.GetProperty("training_images").GetInt32();
                    var values = RoundMetrics.Read(run, Metrics);
                    if (LoopCas.Read(run) is { } cas) (values["cas"], values["cas_over_real"]) = (cas.Cas, cas.OverReal);
                    rows.Add(new Row(Path.GetFileName(arm), config.Seed, k, images, values));
                }
            }
        return rows;
    }

    /// <summary>Writes loop.csv, loop.md and the charts into <paramref name="runsFolder"/>.</summary>
    public static void Write(string runsFolder)
    {
        var rows = Read(runsFolder);
        if (rows.Count == 0) return;
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', new[] { "arm", "seed", "generation", "training_images" }.Concat(Metrics.Select(m => m.Column))));
        foreach (var row in rows)
            csv.AppendLine(string.Join(',', new[] { row.Arm, row.Seed.ToString(CultureInfo.InvariantCulture), row.Generation.ToString(CultureInfo.InvariantCulture), row.TrainingImages.ToString(CultureInfo.InvariantCulture) }
                .Concat(Metrics.Select(m => row.Values.TryGetValue(m.Column, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : ""))));
        AtomicFile.WriteAllBytes(Path.Combine(runsFolder, "loop.csv"), Encoding.UTF8.GetBytes(csv.ToString()));

        var md = new StringBuilder();
        md.AppendLine("# Self-consuming loops").AppendLine();
        md.AppendLine("Per arm and generation: the mean ± standard deviation over seeds (n = number of seeds finished). FD, KID, precision, recall, density and coverage " +
                      "compare the generation's samples with held-out real images in the evaluation space; memorized and d1_median compare them with the generation's own training set.").AppendLine();
        md.AppendLine("| arm | generation | n | training images | " + string.Join(" | ", Metrics.Select(m => m.Column)) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", 4 + Metrics.Count)));
        foreach (var group in Groups(rows))
            md.AppendLine($"| {group.Key.Arm} | {group.Key.Generation} | {group.Count()} | {group.First().TrainingImages} | " +
                          string.Join(" | ", Metrics.Select(m => RoundMetrics.Spread(group.Where(r => r.Values.ContainsKey(m.Column)).Select(r => r.Values[m.Column]).ToList()))) + " |");
        AtomicFile.WriteAllBytes(Path.Combine(runsFolder, "loop.md"), Encoding.UTF8.GetBytes(md.ToString()));

        var prefix = CommonPrefix(rows.Select(r => r.Arm).Distinct().ToList());
        foreach (var metric in Metrics)
        {
            var series = rows.GroupBy(r => r.Arm).Select(arm => new LineSeries(arm.Key[prefix.Length..], arm.GroupBy(r => r.Generation)
                .Where(g => g.Any(r => r.Values.ContainsKey(metric.Column)))
                .Select(g => SweepSummary.Point(g.Key, g.Where(r => r.Values.ContainsKey(metric.Column)).Select(r => r.Values[metric.Column]).ToList()))
                .OrderBy(p => p.X).ToList())).Where(s => s.Points.Count > 0).ToList();
            if (series.Count == 0) continue;
            new LineFigure { Title = $"{metric.Column} vs generation", XLabel = "generation", YLabel = metric.Title, Series = series }
                .Write(runsFolder, $"loop-{metric.Column}");
        }
    }

    /// <summary>The arms' shared leading name parts ("loop-fmnist-"), left out of the legend so that the arms fit; none for one arm.</summary>
    private static string CommonPrefix(IReadOnlyList<string> arms)
    {
        if (arms.Count < 2) return "";
        var length = 0;
        while (length < arms[0].Length && arms.All(a => a.Length > length && a[length] == arms[0][length])) length++;
        var cut = arms[0][..length].LastIndexOf('-');
        return cut < 0 || arms.Any(a => a.Length == cut + 1) ? "" : arms[0][..(cut + 1)];
    }

    private static IEnumerable<IGrouping<(string Arm, int Generation), Row>> Groups(List<Row> rows) =>
        rows.GroupBy(r => (r.Arm, r.Generation)).OrderBy(g => g.Key.Arm, StringComparer.Ordinal).ThenBy(g => g.Key.Generation);
}
