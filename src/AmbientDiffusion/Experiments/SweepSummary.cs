using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The summary of a sweep: one row per run with its grid values and memorization metrics (samples, and the held-out
/// baseline beside them) read from each run's report.json, as <c>summary.csv</c> and <c>summary.md</c>, and a chart of
/// the metrics against the sweep's x key (<c>summary.svg</c>, <c>summary.png</c>; runs that differ only in
/// <c>seed</c> are averaged, with a ± sd band), and the quality measures (pixel-space Fréchet distance to held-out
/// images; FD, KID, precision and recall in the evaluation space), each beside its train-vs-held-out floor, against the
/// same key (<c>quality</c>, <c>fd</c>, <c>kid</c>, <c>precision_recall</c>, <c>.svg</c> and <c>.png</c>). Runs without a
/// report yet appear with empty cells.
/// </summary>
public static class SweepSummary
{
    /// <summary>A metric: its column name, where it lives in report.json and a legend label.</summary>
    public sealed record Metric(string Column, string Space, string Field, string Label);

    /// <summary>The metrics summarised (space names as the analyzer writes them; "downsampled" matches downsampled_N).</summary>
    public static readonly IReadOnlyList<Metric> Metrics =
    [
        new("d1_median", "pixels", "d1.p50", "median d1 (pixels)"),
        new("frac_d1_below_0.05", "pixels", SetMetrics.NearCopyShareKey, "d1 < 0.05"),
        new("ratio_below_third", "pixels", SetMetrics.FlaggedShareKey, "d1/d2 < 1/3"),
        new("carlini", "pixels", "frac_carlini", "Carlini extraction"),
        new("flip_ratio_below_third", "flip_invariant", SetMetrics.FlaggedShareKey, "d1/d2 < 1/3 (flip-invariant)"),
        new("downsampled_ratio_below_third", "downsampled", SetMetrics.FlaggedShareKey, "d1/d2 < 1/3 (downsampled)"),
        new("cosine_above_0.95", "normalized_cosine", "frac_cos_gt_0_95", "cosine > 0.95"),
        new("fd_pixels", "quality", "fd", "pixel Fréchet distance"),
        new("fd_pixels_to_train", "quality", "fd_train", "pixel Fréchet distance to the training images"),
        new("mia_loss_auc", "membership", "loss", "membership AUC (loss attack)"),
        new("mia_loss_observed_auc", "membership", "loss_observed", "membership AUC (corruption-aware loss attack)"),
        new("mia_pia_auc", "membership", "pia", "membership AUC (PIA)"),
        new("mia_loss_tpr_at_1pct_fpr", "membership", "loss_tpr", "TPR at 1% FPR (loss attack)"),
        new("eval_fd", "evaluation", "fd", "FD (evaluation space)"),
        new("eval_kid", "evaluation", "kid", "KID (evaluation space)"),
        new("eval_precision", "evaluation", "precision", "precision"),
        new("eval_recall", "evaluation", "recall", "recall"),
    ];

    /// <summary>The analyzer's name of the held-out → train baseline set.</summary>
    private const string HeldOutSet = "heldout_train";

    /// <summary>The metrics drawn in the chart (fractions, on one 0-1 axis).</summary>
    private static readonly string[] Charted = ["ratio_below_third", "carlini", "cosine_above_0.95"];

    /// <summary>Writes summary.csv, summary.md, summary.svg and summary.png into <paramref name="folder"/>.</summary>
    public static void Write(ExperimentConfig sweep, IReadOnlyList<SweepPoint> points, string folder)
    {
        var keys = sweep.Sweep!.Keys();
        var rows = points.Select(p => (Point: p, Values: Read(new RunDirectory(Path.Combine(folder, p.Label)).Report))).ToList();
        var columns = new List<string> { "run" };
        columns.AddRange(keys);
        columns.Add("status");
        foreach (var metric in Metrics)
        {
            columns.Add(metric.Column);
            columns.Add(metric.Column + "_heldout");
        }
        var table = rows.Select(r =>
        {
            var cells = new List<string> { r.Point.Label };
            // Explicit runs may set different keys: one cell per sweep key, empty where this run does not set it.
            cells.AddRange(keys.Select(k => r.Point.Values.FirstOrDefault(v => v.Key == k).Value ?? ""));
            cells.Add(r.Values is null ? "pending" : "done");
            foreach (var metric in Metrics)
            {
                cells.Add(Format(Lookup(r.Values, metric.Column, MemorizationAnalyzer.SamplesSet)));
                cells.Add(Format(Lookup(r.Values, metric.Column, HeldOutSet)));
            }
            return cells;
        }).ToList();

        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', columns.Select(Csv)));
        foreach (var row in table) csv.AppendLine(string.Join(',', row.Select(Csv)));
        AtomicFile.WriteAllBytes(Path.Combine(folder, "summary.csv"), Encoding.UTF8.GetBytes(csv.ToString()));

        var md = new StringBuilder();
        md.AppendLine($"# Sweep {sweep.Name}").AppendLine();
        md.AppendLine($"{points.Count} runs over {string.Join(", ", keys.Select(k => $"`{k}`"))}. Metrics are fractions of samples " +
                      "(the held-out → train baseline beside each, after the slash); d1 is the RMS distance to the nearest training image, pixels in [0, 1]. " +
                      "fd_pixels is the Fréchet distance between samples and held-out images in downsampled pixel space, beside the train-vs-held-out floor (a quality measure; not FID).").AppendLine();
        var shown = Metrics.Select(m => m.Column).ToList();
        md.AppendLine("| " + string.Join(" | ", new[] { "run" }.Concat(keys).Concat(["status"]).Concat(shown)) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", 2 + keys.Count + shown.Count)));
        foreach (var (row, i) in table.Select((row, i) => (row, i)))
        {
            var cells = row.Take(2 + keys.Count).ToList();
            for (var m = 0; m < Metrics.Count; m++)
            {
                var (value, baseline) = (row[2 + keys.Count + 2 * m], row[3 + keys.Count + 2 * m]);
                cells.Add(value.Length == 0 ? "" : baseline.Length == 0 ? value : $"{value} / {baseline}");
            }
            md.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, "summary.md"), Encoding.UTF8.GetBytes(md.ToString()));

        var series = rows.Select(r => (r.Point, r.Values)).ToList();
        Chart(sweep, series, Charted, "memorization", "fraction of samples", (0, 1), floors: false).Write(folder, "summary");
        Chart(sweep, series, ["fd_pixels"], "quality", "Fréchet distance to held-out images", null, floors: true).Write(folder, "quality");
        Chart(sweep, series, ["eval_fd"], "FD", "FD to held-out images (evaluation space)", null, floors: true).Write(folder, "fd");
        Chart(sweep, series, ["eval_kid"], "KID", "KID to held-out images (evaluation space)", null, floors: true).Write(folder, "kid");
        Chart(sweep, series, ["eval_precision", "eval_recall"], "precision and recall", "fraction", (0, 1), floors: true).Write(folder, "precision_recall");
    }

    /// <summary>One line per metric and per combination of the other keys against the x key: the mean over runs that
    /// differ only in <c>seed</c>, with a ± sd band where there are several; with <paramref name="floors"/>, each
    /// metric's train-vs-held-out floor beside it as a line of its own ("… floor").</summary>
    private static LineFigure Chart(ExperimentConfig sweep, IReadOnlyList<(SweepPoint Point, Dictionary<(string, string), double>? Values)> rows,
        IReadOnlyList<string> charted, string what, string yLabel, (double, double)? yRange, bool floors)
    {
        var x = sweep.Sweep!.X ?? sweep.Sweep.Keys().First();
        var series = new List<LineSeries>();
        var groups = rows.GroupBy(r => string.Join(", ", r.Point.Values.Where(v => v.Key != x && v.Key != "seed").Select(v => $"{v.Key}={v.Value}")));
        foreach (var group in groups)
            foreach (var column in charted)
            {
                var label = Metrics.First(m => m.Column == column).Label;
                var name = group.Key.Length == 0 ? label : $"{label} ({group.Key})";
                foreach (var (set, suffix) in floors ? [(MemorizationAnalyzer.SamplesSet, ""), (HeldOutSet, " floor")] : new[] { (MemorizationAnalyzer.SamplesSet, "") })
                {
                    var points = group
                        .Where(r => r.Values?.ContainsKey((column, set)) == true)
                        .GroupBy(r => Number(r.Point.Values.FirstOrDefault(v => v.Key == x).Value ?? ""))
                        .Where(g => g.Key is not null)
                        .Select(g => Point(g.Key!.Value, g.Select(r => r.Values![(column, set)]).ToList()))
                        .OrderBy(p => p.X)
                        .ToList();
                    if (points.Count > 0) series.Add(new LineSeries(name + suffix, points));
                }
            }
        return new LineFigure
        {
            Title = $"{what} vs {x}",
            XLabel = x,
            YLabel = yLabel,
            Series = series,
            YRange = yRange,
        };
    }

    /// <summary>The mean of <paramref name="values"/> at <paramref name="x"/>, with their sample standard deviation when there are several.</summary>
    internal static LinePoint Point(double x, IReadOnlyList<double> values)
    {
        var mean = values.Average();
        double? sd = values.Count < 2 ? null : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new LinePoint(x, mean, sd);
    }

    /// <summary>Reads (metric column, set) → value from a report folder's report.json (and quality.json), or null when
    /// the report does not exist yet. The quality measure is filed under set "samples", its floor under "heldout".</summary>
    public static Dictionary<(string, string), double>? Read(string reportFolder)
    {
        var reportPath = Path.Combine(reportFolder, MemorizationReportWriter.JsonFile);
        if (!File.Exists(reportPath)) return null;
        using var json = JsonDocument.Parse(File.ReadAllBytes(reportPath));
        var values = new Dictionary<(string, string), double>();
        if (SampleQuality.Read(reportFolder) is { } quality)
        {
            values[("fd_pixels", MemorizationAnalyzer.SamplesSet)] = quality.FdSamples;
            if (quality.FdTrainBaseline is { } floor) values[("fd_pixels", HeldOutSet)] = floor;
            if (quality.FdSamplesTrain is { } toTrain) values[("fd_pixels_to_train", MemorizationAnalyzer.SamplesSet)] = toTrain;
        }
        if (RunDirectory.ReadMembership(reportFolder) is { } membership)
            foreach (var attack in membership.Attacks)
            {
                values[($"mia_{attack.Name}_auc", MemorizationAnalyzer.SamplesSet)] = attack.Auc;
                if (attack.Name == Membership.DenoisingLossAttack.Name) values[("mia_loss_tpr_at_1pct_fpr", MemorizationAnalyzer.SamplesSet)] = attack.TprAt1PctFpr;
            }
        if (EvaluationOf(reportFolder) is { } evaluation)
            foreach (var (key, _, summary) in evaluation.Metrics)
            {
                values[($"eval_{key}", MemorizationAnalyzer.SamplesSet)] = summary.Value;
                values[($"eval_{key}", HeldOutSet)] = summary.Floor;
            }
        if (!json.RootElement.TryGetProperty("spaces", out var spaces)) return values;
        foreach (var space in spaces.EnumerateArray())
        {
            var name = space.GetProperty("name").GetString() ?? "";
            foreach (var metric in Metrics.Where(m => name == m.Space || (m.Space == "downsampled" && name.StartsWith("downsampled_", StringComparison.Ordinal))))
                foreach (var set in space.GetProperty("sets").EnumerateArray())
                    if (Field(set, metric.Field) is { } value)
                        values[(metric.Column, set.GetProperty("set").GetString() ?? "")] = value;
        }
        return values;
    }

    // "d1.p50" reads percentile 50 of the d1 distribution; other fields are plain numbers.
    private static double? Field(JsonElement set, string field)
    {
        if (field.EndsWith(".p50", StringComparison.Ordinal))
        {
            if (!set.TryGetProperty(field[..^4], out var distribution) || distribution.ValueKind != JsonValueKind.Object) return null;
            foreach (var p in distribution.GetProperty("percentiles").EnumerateArray())
                if (p.GetProperty("q").GetInt32() == 50) return p.GetProperty("value").GetDouble();
            return null;
        }
        return set.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
    }

    /// <summary>The value of (<paramref name="column"/>, <paramref name="set"/>), or null where the report has none: a
    /// metric that was not measured (no attack run, no baseline for it) stays an empty cell, never a 0.</summary>
    internal static double? Lookup(IReadOnlyDictionary<(string, string), double>? values, string column, string set) =>
        values is not null && values.TryGetValue((column, set), out var value) ? value : null;

    private static double? Number(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : null;

    private static string Format(double? value) => value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "";

    private static string Csv(string cell) => cell.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    /// <summary>The run's metrics in its evaluation space: the classifier's when evaluated, else pixels', else the first.</summary>
    private static EvaluationResult? EvaluationOf(string reportFolder)
    {
        var root = Path.Combine(reportFolder, RunDirectory.EvaluationFolder);
        if (!Directory.Exists(root)) return null;
        var folders = Directory.GetDirectories(root).OrderBy(f => f, StringComparer.Ordinal).ToList();
        var chosen = folders.FirstOrDefault(f => Path.GetFileName(f) == "classifier") ?? folders.FirstOrDefault(f => Path.GetFileName(f) == "pixels") ?? folders.FirstOrDefault();
        return chosen is null ? null : MetricsReportWriter.Read(chosen);
    }
}
