using System.Globalization;
using System.Text;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>
/// The metrics as XHTML: <see cref="Fragment"/> is a <c>&lt;section&gt;</c> another report can embed (it parses as
/// XML on its own), <see cref="Page"/> the standalone, self-contained evaluation.html around it. Every number carries
/// <c>data-key</c> (its JSON pointer in metrics.json) and <c>data-value</c> (its exact round-trip value).
/// </summary>
public static class MetricsHtml
{
    private const string Style = ReportStyle.Base;

    /// <summary>The standalone page: the fragment and the full metrics.json.</summary>
    public static string Page(EvaluationResult result, string json)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<title>Sample quality</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append(Fragment(result));
        html.Append("<h2>metrics.json</h2>\n<details><summary>the full JSON</summary>\n<pre>").Append(E(json)).Append("</pre>\n</details>\n");
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>One <c>&lt;section&gt;</c>: settings, the metric table (each sample set, min, mean, floor) and the inputs.</summary>
    public static string Fragment(EvaluationResult result)
    {
        var html = new StringBuilder();
        html.Append("<section class=\"sample-quality\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<h2>Sample quality</h2>\n");
        html.Append($"<p>{E(result.Version)}. Feature space <code>{E(result.FeatureSpace)}</code> ({result.FeatureDimension} features). ");
        html.Append($"FD in float64; KID the unbiased MMD² with k(x, y) = (x·y/{result.FeatureDimension} + 1)³ over {result.KidSubsets} seeded subsets of {result.KidSubsetSize} rows (floor: {result.KidFloorSubsetSize}); ");
        html.Append($"precision, recall, density and coverage with k = {result.K}. Seed {result.Seed}.</p>\n");
        var sizes = result.Fd;
        html.Append(CultureInfo.InvariantCulture, $"<p>Samples: each set of {sizes.N} images against all {sizes.ReferenceN} {(result.ReferenceSplit == "heldout" ? "held-out" : "reference")} images. ");
        html.Append($"Floor: {E(result.Floor.Description)}. A metric at its floor is as good as real data at the floor's sizes.</p>\n");

        var sets = result.SampleSets.Count;
        html.Append("<table>\n<tr><th class=\"l\">metric</th>");
        for (var s = 0; s < sets; s++) html.Append($"<th>set {s + 1}</th>");
        if (sets > 1) html.Append("<th>min</th><th>mean</th>");
        html.Append("<th>floor</th><th>N</th><th>reference N</th><th>floor N</th><th>floor reference N</th></tr>\n");
        foreach (var (key, label, m) in result.Metrics)
        {
            html.Append($"<tr><td class=\"l\">{E(label)}</td>");
            for (var s = 0; s < sets; s++)
                html.Append(Cell($"/{key}/values/{s}", m.Values[s], m.Stds is { } stds ? $"/{key}/stds/{s}" : null, m.Stds?[s]));
            if (sets > 1) html.Append(Cell($"/{key}/min", m.Min)).Append(Cell($"/{key}/mean", m.Mean));
            html.Append(Cell($"/{key}/floor", m.Floor, m.FloorStd is null ? null : $"/{key}/floor_std", m.FloorStd));
            html.Append(CultureInfo.InvariantCulture, $"<td data-key=\"/{key}/n\">{m.N}</td><td data-key=\"/{key}/reference_n\">{m.ReferenceN}</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td data-key=\"/{key}/floor_n\">{m.FloorN}</td><td data-key=\"/{key}/floor_reference_n\">{m.FloorReferenceN}</td></tr>\n");
        }
        html.Append("</table>\n");

        html.Append("<table>\n<tr><th class=\"l\">role</th><th class=\"l\">file</th><th class=\"l\">tensor</th><th>shape</th><th class=\"l\">seeds</th><th class=\"l\">SHA-256</th></tr>\n");
        for (var s = 0; s < sets; s++)
        {
            var set = result.SampleSets[s];
            html.Append($"<tr><td class=\"l\">samples (set {s + 1})</td>{MemorizationHtml.FileCells(set.Source, set.Seeds)}</tr>\n");
        }
        var reference = result.Reference;
        html.Append($"<tr><td class=\"l\">reference ({E(result.ReferenceSplit)})</td>{MemorizationHtml.FileCells(reference, "")}</tr>\n");
        if (result.Floor.Source is { } floor)
            html.Append($"<tr><td class=\"l\">floor</td>{MemorizationHtml.FileCells(floor, "")}</tr>\n");
        html.Append("</table>\n");
        if (result.Notes.Count > 0)
        {
            html.Append("<ul>\n");
            foreach (var note in result.Notes) html.Append($"<li>{E(note)}</li>\n");
            html.Append("</ul>\n");
        }
        html.Append("</section>\n");
        return html.ToString();
    }

    /// <summary>A cell showing a value (± its standard deviation when given), tagged with JSON pointers and exact values.</summary>
    private static string Cell(string key, double value, string? stdKey = null, double? std = null)
    {
        var cell = $"<td data-key=\"{key}\" data-value=\"{R(value)}\">{Display(value)}";
        if (stdKey is not null && std is { } s) cell += $" <span data-key=\"{stdKey}\" data-value=\"{R(s)}\">± {Display(s)}</span>";
        return cell + "</td>";
    }

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Five significant digits, invariant culture.</summary>
    private static string Display(double value) => value.ToString("G5", CultureInfo.InvariantCulture);

    private static string E(string text) => Xml.Escape(text);
}
