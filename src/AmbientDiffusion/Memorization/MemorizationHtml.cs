using System.Globalization;
using System.Text;
using AmbientDiffusion.Reporting;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// report.html: a self-contained XHTML page (parses as XML) with the metric tables, histograms as inline SVG with the
/// baselines overlaid, and the most memorized samples beside their nearest training images as PNG data URIs. Every
/// number in a table cell carries <c>data-key</c> (its JSON pointer in report.json) and <c>data-value</c> (its exact
/// round-trip value), so the page can be checked against the JSON.
/// </summary>
internal static class MemorizationHtml
{
    private const string Style = ReportStyle.Base + """
        img{image-rendering:pixelated;width:96px;height:auto;display:block}
        .worst td{text-align:center;vertical-align:top}
        .grid{display:flex;flex-wrap:wrap;gap:4px;max-width:1100px}
        .grid img{width:64px}
        .ci{color:#555;font-size:90%}
        .verdict{font-size:17px;background:#f5f8ff;border-left:4px solid #4a6fd8;padding:8px 12px}
        """;

    /// <summary>Samples shown in the report's sample grid.</summary>
    public const int SampleGridCount = 32;

    public static string Render(MemorizationReport report, string json, Thumbnails thumbnails, IReadOnlyList<string> sections)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<title>Memorization report</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>Memorization report</h1>\n");
        html.Append($"<p class=\"verdict\" id=\"verdict\"><strong>{E(MemorizationVerdict.Describe(report))}</strong></p>\n");
        html.Append($"<p>{E(report.Version)}; nearest neighbours searched exactly on <code>{E(report.Device)}</code>. Distances are RMS L2 distances of pixels in [0, 1] (divided by the square root of the feature length); cosine spaces report the similarity to the most similar training image. Baselines: <code>train_train</code> (training images against the rest of the training set) and <code>heldout_train</code> (held-out images against the training set).</p>\n");

        var shown = Math.Min(SampleGridCount, thumbnails.Samples.Count);
        html.Append($"<h2>Samples</h2>\n<p>The first {shown} of {thumbnails.Samples.Count} samples.</p>\n<div class=\"grid\">");
        for (var i = 0; i < shown; i++) html.Append($"<img src=\"{thumbnails.DataUri(thumbnails.Samples, i)}\" alt=\"sample {i}\"/>");
        html.Append("</div>\n");

        html.Append("<h2>Closest pairs: the most memorized samples</h2>\n");
        html.Append($"<p>The {report.Worst.Count} samples with the smallest pixel d1, each beside its {MemorizationAnalyzer.ShownNeighbors} nearest training images (pixel space). The same rows are in <code>{MemorizationReportWriter.NeighborsFile}</code>.</p>\n");
        html.Append("<table class=\"worst\">\n<tr><th>sample</th>");
        for (var j = 1; j <= MemorizationAnalyzer.ShownNeighbors; j++) html.Append($"<th>neighbour {j}</th>");
        html.Append("</tr>\n");
        for (var w = 0; w < report.Worst.Count; w++)
        {
            var worst = report.Worst[w];
            html.Append($"<tr><td><img src=\"{thumbnails.DataUri(thumbnails.Samples, worst.Index)}\" alt=\"sample {worst.Index}\"/>#{worst.Index}<br/>d1 {Cell($"/worst/{w}/d1", worst.D1, "span")}<br/>d1/d2 {Cell($"/worst/{w}/ratio", worst.Ratio, "span")}</td>");
            for (var j = 0; j < worst.Neighbors.Count; j++)
            {
                var n = worst.Neighbors[j];
                html.Append($"<td><img src=\"{thumbnails.DataUri(thumbnails.Train, n.Index)}\" alt=\"training image {n.Index}\"/>train #{n.Index}<br/>{Cell($"/worst/{w}/neighbors/{j}/distance", n.Distance, "span")}</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");

        foreach (var section in sections) html.Append(section).Append('\n');

        html.Append("<h2>Inputs</h2>\n<table>\n<tr><th class=\"l\">role</th><th class=\"l\">file</th><th class=\"l\">tensor</th><th>shape</th><th class=\"l\">SHA-256</th></tr>\n");
        foreach (var (role, file) in new[] { (SetRole.Samples.Name(), report.Inputs.Samples), (SetRole.Train.Name(), report.Inputs.Train), (SetRole.HeldOut.Name(), report.Inputs.HeldOut),
                     ("features: samples", report.Inputs.FeaturesSamples), ("features: train", report.Inputs.FeaturesTrain), ("features: heldout", report.Inputs.FeaturesHeldOut) })
        {
            if (file is null) continue;
            html.Append($"<tr><td class=\"l\">{E(role)}</td>{FileCells(file)}</tr>\n");
        }
        html.Append("</table>\n");
        if (report.Notes.Count > 0)
        {
            html.Append("<h2>Notes</h2>\n<ul>\n");
            foreach (var note in report.Notes) html.Append($"<li>{E(note)}</li>\n");
            html.Append("</ul>\n");
        }

        html.Append("<h2>Metrics</h2>\n");
        for (var s = 0; s < report.Spaces.Count; s++) AppendSpace(html, report.Spaces[s], s);
        if (report.TrainingAudit is { } audit) AppendAudit(html, audit);

        html.Append("<h2>report.json</h2>\n<details><summary>the full JSON report</summary>\n<pre>").Append(E(json)).Append("</pre>\n</details>\n");
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendSpace(StringBuilder html, SpaceReport space, int s)
    {
        html.Append($"<h3>{E(space.Name)}</h3>\n<p>{E(space.Description)}; {space.Dimension} features.</p>\n");
        html.Append("<table>\n<tr><th class=\"l\">metric</th>");
        foreach (var set in space.Sets) html.Append($"<th>{E(set.Set)}</th>");
        html.Append("</tr>\n");
        var rows = new List<(string label, string key, Func<SetMetrics, double?> value)>
        {
            ("queries", "queries", m => m.Queries),
        };
        if (space.Metric == "distance")
        {
            rows.Add(("d1 mean", "d1/mean", m => m.D1?.Mean));
            for (var p = 0; p < MemorizationStatistics.PercentileLevels.Length; p++)
            {
                var index = p;
                rows.Add(($"d1 p{MemorizationStatistics.PercentileLevels[p]}", $"d1/percentiles/{p}/value", m => m.D1?.Percentiles[index].Value));
            }
            rows.Add(("d2 median", "d2/percentiles/3/value", m => m.D2?.Percentiles[3].Value));
            rows.Add(("fraction d1 < 0.05", SetMetrics.NearCopyShareKey, m => m.FracD1Below005));
            rows.Add(("fraction d1 < 0.1", "frac_d1_lt_0_1", m => m.FracD1Below01));
            rows.Add(("fraction d1/d2 < 1/3 (memorization ratio)", SetMetrics.FlaggedShareKey, m => m.FracRatioBelowThird));
            rows.Add(("fraction extracted (Carlini et al.)", "frac_carlini", m => m.FracCarlini));
        }
        else
        {
            rows.Add(("top-1 cosine mean", "cos1/mean", m => m.Cos1?.Mean));
            for (var p = 0; p < MemorizationStatistics.PercentileLevels.Length; p++)
            {
                var index = p;
                rows.Add(($"top-1 cosine p{MemorizationStatistics.PercentileLevels[p]}", $"cos1/percentiles/{p}/value", m => m.Cos1?.Percentiles[index].Value));
            }
            rows.Add(("top-1 cosine max", "cos1/max", m => m.Cos1?.Max));
            rows.Add(("fraction cosine > 0.9", "frac_cos_gt_0_90", m => m.FracCosAbove090));
            rows.Add(("fraction cosine > 0.95", "frac_cos_gt_0_95", m => m.FracCosAbove095));
            rows.Add(("fraction cosine > 0.99", "frac_cos_gt_0_99", m => m.FracCosAbove099));
        }
        rows.Add(("exact-scan fallbacks", "exact_fallbacks", m => m.ExactFallbacks));
        foreach (var (label, key, value) in rows)
        {
            html.Append($"<tr><td class=\"l\">{E(label)}</td>");
            for (var i = 0; i < space.Sets.Count; i++)
            {
                var v = value(space.Sets[i]);
                var pointer = $"/spaces/{s}/sets/{i}/{key}";
                // A fraction with its bootstrap interval: the rate and its bounds, each tagged with its own pointer.
                if (v is { } rate && space.Sets[i].Intervals?.GetValueOrDefault(key) is { } ci)
                    html.Append($"<td>{Cell(pointer, rate, "span")} {Interval($"/spaces/{s}/sets/{i}/intervals/{key}", ci)}</td>");
                else
                    html.Append(v is { } x ? Cell(pointer, x, "td") : "<td></td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");

        var histograms = space.Sets.Select(m => (m.Set, h: m.D1Histogram ?? m.Cos1Histogram)).Where(p => p.h is not null).ToArray();
        if (histograms.Length > 0)
        {
            var first = histograms[0].h!;
            var distance = space.Metric == "distance";
            var chart = new HistogramFigure
            {
                Title = $"{space.Name}: {(distance ? "d1" : "top-1 cosine")}",
                XLabel = distance ? "RMS distance to the nearest training image" : "cosine similarity to the most similar training image",
                Lo = first.Lo,
                Hi = first.Hi,
                Width = 480,
                Height = 300,
                Series = histograms.Select(p => new HistogramSeries(p.Set, p.h!.Counts)).ToList(),
                References = (distance ? new[] { 0.05, 0.1 } : [0.9, 0.95, 0.99])
                    .Where(t => t >= first.Lo && t <= first.Hi)
                    .Select(t => new ReferenceLine(t, $"{(distance ? "d1" : "cosine")} = {t.ToString(CultureInfo.InvariantCulture)}", Vertical: true)).ToList(),
            };
            html.Append(chart.ToSvg()).Append('\n');
        }
    }

    private static void AppendAudit(StringBuilder html, TrainingAuditReport audit)
    {
        html.Append("<h2>Training-set audit</h2>\n");
        html.Append($"<p>{Cell("/training_audit/queried", audit.Queried, "span")} training images queried against the rest of the training set; {Cell("/training_audit/near_duplicates", audit.NearDuplicates, "span")} lie under the copy threshold (pixel d1/d2 &lt; 1/3) from another training image. A sample that copies one image of such a pair is flagged for the pair.</p>\n");
        if (audit.Pairs.Count > 0)
        {
            html.Append("<table>\n<tr><th>training image</th><th>nearest other</th><th>d1</th><th>d1/d2</th></tr>\n");
            for (var i = 0; i < audit.Pairs.Count; i++)
            {
                var pair = audit.Pairs[i];
                html.Append($"<tr><td>#{pair.Index}</td><td>#{pair.Neighbor}</td>{Cell($"/training_audit/pairs/{i}/d1", pair.D1, "td")}{Cell($"/training_audit/pairs/{i}/ratio", pair.Ratio, "td")}</tr>\n");
            }
            html.Append("</table>\n");
        }
        if (audit.ByClass.Count == 0) return;
        html.Append($"<h3>Flagged samples per class</h3>\n<p>Grouped by {E(audit.ClassOf)}.</p>\n");
        html.Append("<table>\n<tr><th class=\"l\">class</th><th>samples</th><th>flagged</th><th>share</th></tr>\n");
        for (var i = 0; i < audit.ByClass.Count; i++)
        {
            var c = audit.ByClass[i];
            var share = Cell($"/training_audit/by_class/{i}/share", c.Share, "span")
                        + (c.Interval is { } ci ? " " + Interval($"/training_audit/by_class/{i}/interval", ci) : "");
            html.Append($"<tr><td class=\"l\">{c.Class} {E(c.Name)}</td>{Cell($"/training_audit/by_class/{i}/samples", c.Samples, "td")}{Cell($"/training_audit/by_class/{i}/flagged", c.Flagged, "td")}<td>{share}</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    /// <summary>A bootstrap interval as "[lo, hi]", each bound tagged with its pointer under <paramref name="key"/>.</summary>
    private static string Interval(string key, ConfidenceInterval interval) =>
        $"<span class=\"ci\" title=\"{Display(interval.Level * 100)}% bootstrap interval, {interval.Resamples} resamples\">[{Cell(key + "/lo", interval.Lo, "span")}, {Cell(key + "/hi", interval.Hi, "span")}]</span>";

    /// <summary>A table cell (or span) showing <paramref name="value"/>, tagged with its JSON pointer and exact value.</summary>
    private static string Cell(string key, double value, string element) =>
        $"<{element} data-key=\"{key}\" data-value=\"{value.ToString("R", CultureInfo.InvariantCulture)}\">{Display(value)}</{element}>";

    /// <summary>Five significant digits, invariant culture.</summary>
    internal static string Display(double value) => value.ToString("G5", CultureInfo.InvariantCulture);

    private static string E(string text) => Xml.Escape(text);

    /// <summary>An input file's table cells (path, tensor, shape, then <paramref name="seeds"/> when given, SHA-256), shared by
    /// every report that lists its inputs.</summary>
    internal static string FileCells(InputFile file, string? seeds = null) =>
        $"<td class=\"l\"><code>{E(file.Path)}</code></td><td class=\"l\">{E(file.Tensor)}</td><td>{string.Join(" x ", file.Shape)}</td>"
        + (seeds is null ? "" : $"<td class=\"l\">{E(seeds)}</td>") + $"<td class=\"l\"><code>{file.Sha256}</code></td>";
}
