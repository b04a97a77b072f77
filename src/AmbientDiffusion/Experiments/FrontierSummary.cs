using System.Globalization;
using System.Text;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Data;
using AmbientDiffusion.Membership;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Experiments;

/// <summary>One run of a trade-off study: what it was (N, p, objective, seed) and what its report says.</summary>
/// <param name="Run">Run folder.</param>
/// <param name="TrainingImages">N: images in its clean training set.</param>
/// <param name="P">corruption.p (0 without a corruption section).</param>
/// <param name="Loss">loss.kind.</param>
/// <param name="Seed">The experiment's seed.</param>
/// <param name="Values">(metric column, set) → value, as <see cref="SweepSummary.Read"/> reads them.</param>
/// <param name="Intervals">Bootstrap interval of the memorization numbers: flagged share, d1 &lt; 0.05, attack AUCs.</param>
public sealed record FrontierRun(string Run, int TrainingImages, double P, string Loss, ulong Seed, IReadOnlyDictionary<(string, string), double> Values,
    IReadOnlyDictionary<string, ConfidenceInterval> Intervals);

/// <summary>One cell of the study (N, p, objective): the mean and sample sd of each number over its seeds.</summary>
public sealed record FrontierCell(int TrainingImages, double P, string Loss, IReadOnlyList<FrontierRun> Runs)
{
    /// <summary>Mean and sd (null with one run, or no value) of a metric over the cell's runs that have it.</summary>
    public (double? Mean, double? Sd, int Count) Stat(string column, string set = "samples")
    {
        var values = Runs.Select(r => r.Values.TryGetValue((column, set), out var v) ? v : (double?)null).OfType<double>().ToList();
        if (values.Count == 0) return (null, null, 0);
        var mean = values.Average();
        double? sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : null;
        return (mean, sd, values.Count);
    }

    /// <summary>The error bar of a memorization number: the sd over seeds with several, else half the single run's
    /// bootstrap interval (null when neither exists).</summary>
    public double? Bar(string column, string intervalKey)
    {
        var (_, sd, count) = Stat(column);
        if (count > 1) return sd;
        return OnlyInterval(column, intervalKey) is { } i ? (i.Hi - i.Lo) / 2 : null;
    }

    /// <summary>When exactly one of the cell's runs has the metric, that run's bootstrap interval (null otherwise): the
    /// run that has the number, not the first of the cell, whose attack may not have run yet.</summary>
    public ConfidenceInterval? OnlyInterval(string column, string intervalKey, string set = "samples")
    {
        var having = Runs.Where(r => r.Values.ContainsKey((column, set))).ToList();
        return having.Count == 1 && having[0].Intervals.TryGetValue(intervalKey, out var i) ? i : null;
    }
}

/// <summary>
/// The memorization–quality trade-off over many runs (issue 24): per run its training-set size N, corruption p,
/// objective and seed, and from its report the flagged share (pixel d1/d2 &lt; 1/3), d1 &lt; 0.05, the attacks' AUC and
/// TPR at 1% FPR (membership.json), FD and recall in the evaluation space with their floors and the pixel FD to held-out
/// and to training images; cells of equal (N, p, objective) averaged over seeds (mean ± sd). Writes frontier.csv (one
/// line per run), frontier.md (one line per cell) and the trade-off charts: quality against memorization, one point per
/// cell labelled by p, one series per N and objective.
/// </summary>
public static class FrontierSummary
{
    /// <summary>Reads every run folder given (folders without a report.json are skipped and named in the result).</summary>
    public static (IReadOnlyList<FrontierRun> Runs, IReadOnlyList<string> Skipped) Read(IEnumerable<string> runFolders)
    {
        var runs = new List<FrontierRun>();
        var skipped = new List<string>();
        foreach (var folder in runFolders)
        {
            var run = new RunDirectory(folder);
            if (!File.Exists(run.Config)) throw new FileNotFoundException($"{run.Path}: no config.yaml; is it a run directory made by `ambient train`?", run.Config);
            var values = SweepSummary.Read(run.Report);
            if (values is null) { skipped.Add($"{run.Path}: no {MemorizationReportWriter.JsonFile} yet"); continue; }
            var config = ConfigLoader.Parse(File.ReadAllText(run.Config), run.Config);
            var prepared = run.ReadInputs().Prepared;
            int count;
            using (var data = prepared is null ? null : PreparedDataset.Open(prepared)) count = data?.Count ?? 0;
            runs.Add(new FrontierRun(run.Path, count, config.Corruption?.P ?? 0, Yaml.EnumName(config.Loss.Kind), config.Seed, values, Intervals(run.Report)));
        }
        return (runs, skipped);
    }

    private static Dictionary<string, ConfidenceInterval> Intervals(string report)
    {
        var intervals = new Dictionary<string, ConfidenceInterval>();
        var copies = System.Text.Json.JsonSerializer.Deserialize<MemorizationReport>(File.ReadAllBytes(Path.Combine(report, MemorizationReportWriter.JsonFile)), MemorizationReportWriter.JsonOptions);
        if (copies?.Space("pixels")?.Set(MemorizationAnalyzer.SamplesSet)?.Intervals is { } pixels)
            foreach (var (key, interval) in pixels) intervals[key] = interval;
        if (RunDirectory.ReadMembership(report) is { } membership)
            foreach (var attack in membership.Attacks)
                if (attack.AucInterval is { } auc) intervals[$"mia_{attack.Name}_auc"] = auc;
        return intervals;
    }

    /// <summary>The runs grouped into cells, ordered by N, then p, then objective: a table reads down each N's curve
    /// from the clean model (p = 0) to the most corrupted.</summary>
    public static IReadOnlyList<FrontierCell> Cells(IReadOnlyList<FrontierRun> runs) => runs
        .GroupBy(r => (r.TrainingImages, r.P, r.Loss))
        .Select(g => new FrontierCell(g.Key.TrainingImages, g.Key.P, g.Key.Loss, g.OrderBy(r => r.Seed).ToList()))
        .OrderBy(c => c.TrainingImages).ThenBy(c => c.P).ThenBy(c => c.Loss, StringComparer.Ordinal).ToList();

    /// <summary>The columns of the tables: (column, set, header).</summary>
    private static readonly (string Column, string Set, string Header)[] Columns =
    [
        ("ratio_below_third", "samples", "flagged d1/d2<1/3"),
        ("frac_d1_below_0.05", "samples", "d1<0.05"),
        ("mia_loss_auc", "samples", "MIA AUC loss"),
        ("mia_loss_observed_auc", "samples", "MIA AUC loss (observed)"),
        ("mia_pia_auc", "samples", "MIA AUC PIA"),
        ("mia_loss_tpr_at_1pct_fpr", "samples", "TPR@1%FPR loss"),
        ("eval_fd", "samples", "FD"),
        ("eval_fd", "heldout_train", "FD floor"),
        ("eval_recall", "samples", "recall"),
        ("eval_recall", "heldout_train", "recall floor"),
        ("fd_pixels", "samples", "pixel FD to held-out"),
        ("fd_pixels_to_train", "samples", "pixel FD to train"),
    ];

    /// <summary>Writes frontier.csv, frontier.md and the charts into <paramref name="folder"/>.</summary>
    public static void Write(IReadOnlyList<FrontierRun> runs, IReadOnlyList<string> skipped, string folder)
    {
        Directory.CreateDirectory(folder);
        static string F(double? v) => v is { } x ? x.ToString("0.####", CultureInfo.InvariantCulture) : "";
        var csv = new StringBuilder("run,n,p,loss,seed," + string.Join(',', Columns.Select(c => c.Header.Replace(',', ';'))) + ",flagged_lo,flagged_hi,mia_loss_auc_lo,mia_loss_auc_hi\n");
        foreach (var r in Cells(runs).SelectMany(c => c.Runs))
        {
            csv.Append(CultureInfo.InvariantCulture, $"\"{r.Run}\",{r.TrainingImages},{F(r.P)},{r.Loss},{r.Seed}");
            foreach (var (column, set, _) in Columns) csv.Append(',').Append(F(SweepSummary.Lookup(r.Values, column, set)));
            var flagged = r.Intervals.GetValueOrDefault(SetMetrics.FlaggedShareKey);
            var auc = r.Intervals.GetValueOrDefault("mia_loss_auc");
            csv.Append(CultureInfo.InvariantCulture, $",{F(flagged?.Lo)},{F(flagged?.Hi)},{F(auc?.Lo)},{F(auc?.Hi)}\n");
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, "frontier.csv"), Encoding.UTF8.GetBytes(csv.ToString()));

        var cells = Cells(runs);
        var md = new StringBuilder("# Memorization–quality trade-off\n\n");
        md.AppendLine($"{runs.Count} runs in {cells.Count} cells (N training images, corruption p, objective). Each entry is the mean over the cell's seeds ± their sample sd; " +
            "a single run shows its 95% bootstrap interval in brackets where the report has one. Flagged: pixel d1/d2 < 1/3 of the samples; MIA AUC: membership-inference ROC AUC " +
            "(training images against held-out images; 0.5 is chance); FD and recall in the evaluation space with the train-vs-held-out floors; pixel FD to held-out and to training images is the generalization gap.").AppendLine();
        md.AppendLine("| N | p | loss | seeds | " + string.Join(" | ", Columns.Select(c => c.Header)) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", 4 + Columns.Length)));
        foreach (var cell in cells)
        {
            var entries = Columns.Select(c =>
            {
                var (mean, sd, count) = cell.Stat(c.Column, c.Set);
                if (mean is null) return "";
                if (sd is { } s) return $"{F(mean)} ± {F(s)}";
                var key = c.Column switch { "ratio_below_third" => SetMetrics.FlaggedShareKey, "frac_d1_below_0.05" => SetMetrics.NearCopyShareKey, var other => other };
                return count == 1 && c.Set == "samples" && cell.OnlyInterval(c.Column, key) is { } i ? $"{F(mean)} [{F(i.Lo)}, {F(i.Hi)}]" : F(mean);
            });
            md.AppendLine($"| {cell.TrainingImages} | {F(cell.P)} | {cell.Loss} | {cell.Runs.Count} | {string.Join(" | ", entries)} |");
        }
        if (skipped.Count > 0) md.AppendLine().AppendLine("Skipped: " + string.Join("; ", skipped));
        AtomicFile.WriteAllBytes(Path.Combine(folder, "frontier.md"), Encoding.UTF8.GetBytes(md.ToString()));

        var quality = runs.Any(r => r.Values.ContainsKey(("eval_fd", "samples"))) ? ("eval_fd", "FD to held-out images (evaluation space)") : ("fd_pixels", "pixel Fréchet distance to held-out images");
        Chart(cells, "ratio_below_third", SetMetrics.FlaggedShareKey, "flagged share of samples (d1/d2 < 1/3)", quality.Item1, quality.Item2).Write(folder, "frontier-flagged-fd");
        Chart(cells, "mia_loss_auc", "mia_loss_auc", "membership AUC (loss attack)", quality.Item1, quality.Item2, chance: true).Write(folder, "frontier-auc-fd");
        Chart(cells, "ratio_below_third", SetMetrics.FlaggedShareKey, "flagged share of samples (d1/d2 < 1/3)", "eval_recall", "recall (evaluation space)").Write(folder, "frontier-flagged-recall");
        Chart(cells, "mia_loss_auc", "mia_loss_auc", "membership AUC (loss attack)", "eval_recall", "recall (evaluation space)", chance: true).Write(folder, "frontier-auc-recall");
    }

    /// <summary>Quality (y) against memorization (x): one series per (N, objective), points in order of p and labelled
    /// by it, bars of ± sd over seeds (x: half the bootstrap interval for a single run); the quality floor as a line.</summary>
    private static ScatterFigure Chart(IReadOnlyList<FrontierCell> cells, string x, string xInterval, string xLabel, string y, string yLabel, bool chance = false)
    {
        // The clean EDM model is the p = 0 end of the ambient curve; other objectives (naive, tweedie) get series of their own.
        var series = cells.GroupBy(c => (c.TrainingImages, Objective: c.Loss is "edm" or "ambient" ? "" : $" ({c.Loss})")).Select(g => new ScatterSeries($"N = {g.Key.TrainingImages}{g.Key.Objective}",
            g.OrderBy(c => c.P).Select(c => (Cell: c, X: c.Stat(x), Y: c.Stat(y))).Where(p => p.X.Mean is not null && p.Y.Mean is not null)
                .Select(p => new LabelledPoint(p.X.Mean!.Value, p.Y.Mean!.Value, $"p={p.Cell.P.ToString("0.##", CultureInfo.InvariantCulture)}", p.Cell.Bar(x, xInterval), p.Y.Sd))
                .ToList(), Connect: true)).Where(s => s.Points.Count > 0).ToList();
        var floors = cells.Select(c => c.Stat(y, "heldout_train").Mean).OfType<double>().ToList();
        var references = new List<ReferenceLine>();
        if (floors.Count > 0) references.Add(new ReferenceLine(floors.Average(), "floor (train vs held-out)"));
        if (chance) references.Add(new ReferenceLine(0.5, "chance", Vertical: true));
        return new ScatterFigure { Title = $"{yLabel.Split(' ')[0]} against memorization", XLabel = xLabel, YLabel = yLabel, Series = series, References = references, YScale = AxisScale.Linear };
    }
}
