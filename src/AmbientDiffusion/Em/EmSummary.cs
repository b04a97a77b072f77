using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Rounds;
using AmbientDiffusion.TensorBoard;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Em;

/// <summary>
/// The summary of an EM run, rewritten after every round: <c>em.csv</c> and <c>em.md</c> (one row per finished round:
/// the E-step's seconds and every <see cref="RoundMetrics.Quality"/> metric), one chart per metric against the round
/// (<c>em-&lt;metric&gt;.svg</c>/<c>.png</c>) and the same scalars in TensorBoard (<c>tensorboard/</c>, replaced whole,
/// so no point appears twice). Rounds not finished yet are left out.
/// </summary>
public static class EmSummary
{
    /// <summary>One finished round.</summary>
    public sealed record Row(int Round, double EStepSeconds, IReadOnlyDictionary<string, double> Values);

    /// <summary>Name of the summary's event file (after TensorBoard's prefix).</summary>
    public const string BoardFile = "em-summary";

    /// <summary>Reads every finished round of the run in <paramref name="layout"/>.</summary>
    public static List<Row> Read(EmLayout layout)
    {
        var rows = new List<Row>();
        for (var k = 0; Directory.Exists(layout.Round(k).Path); k++)
        {
            var run = layout.Round(k);
            var marker = EmLayout.Marker(run);
            if (!File.Exists(marker)) continue;
            using var json = JsonDocument.Parse(File.ReadAllBytes(marker));
            rows.Add(new Row(k, json.RootElement.GetProperty("e_step_seconds").GetDouble(), RoundMetrics.Read(run, RoundMetrics.Quality)));
        }
        return rows;
    }

    /// <summary>Writes em.csv, em.md, the charts and the TensorBoard scalars into the run's folder.</summary>
    public static void Write(EmLayout layout)
    {
        var rows = Read(layout);
        if (rows.Count == 0) return;
        var metrics = RoundMetrics.Quality;
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', new[] { "round", "e_step_seconds" }.Concat(metrics.Select(m => m.Column))));
        foreach (var row in rows)
            csv.AppendLine(string.Join(',', new[] { row.Round.ToString(CultureInfo.InvariantCulture), row.EStepSeconds.ToString("R", CultureInfo.InvariantCulture) }
                .Concat(metrics.Select(m => row.Values.TryGetValue(m.Column, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : ""))));
        AtomicFile.WriteAllBytes(Path.Combine(layout.Folder, "em.csv"), Encoding.UTF8.GetBytes(csv.ToString()));

        var md = new StringBuilder();
        md.AppendLine($"# EM: {Path.GetFileName(layout.Folder)}").AppendLine();
        md.AppendLine("Per round: the E-step's sampling seconds (summed over its shards, so over all workers of `ambient launch`; round 0 includes the Gaussian fit), then the round model's samples " +
                      "against held-out real images (FD, KID, precision, recall, density, coverage) and against its clean training images (memorized, d1_median).").AppendLine();
        md.AppendLine("| round | e-step s | " + string.Join(" | ", metrics.Select(m => m.Column)) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", 2 + metrics.Count)));
        foreach (var row in rows)
            md.AppendLine($"| {row.Round} | {row.EStepSeconds:0.#} | " + string.Join(" | ", metrics.Select(m => row.Values.TryGetValue(m.Column, out var v) ? RoundMetrics.Format(v) : "")) + " |");
        AtomicFile.WriteAllBytes(Path.Combine(layout.Folder, "em.md"), Encoding.UTF8.GetBytes(md.ToString()));

        var name = Path.GetFileName(layout.Folder);
        foreach (var metric in metrics)
        {
            var points = rows.Where(r => r.Values.ContainsKey(metric.Column)).Select(r => new LinePoint(r.Round, r.Values[metric.Column])).ToList();
            if (points.Count == 0) continue;
            new LineFigure { Title = $"{metric.Column} vs EM round", XLabel = "round", YLabel = metric.Title, Series = [new LineSeries(name, points)] }
                .Write(layout.Folder, $"em-{metric.Column}");
        }

        using var writer = SummaryWriter.Replacing(layout.TensorBoard, BoardFile);
        foreach (var row in rows)
            writer.AddScalars(metrics.Where(m => row.Values.ContainsKey(m.Column)).Select(m => ($"EM/{m.Column}", row.Values[m.Column]))
                .Append(("EM/e_step_seconds", row.EStepSeconds)), row.Round);
    }
}
