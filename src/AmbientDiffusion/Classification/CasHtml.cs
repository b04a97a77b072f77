using System.Globalization;
using System.Text;
using AmbientDiffusion.Reporting;

namespace AmbientDiffusion.Classification;

/// <summary>
/// cas.html: the three accuracies and the CAS / real ratio, the per-class table and the confusion-matrix pictures.
/// Every number carries <c>data-key</c> (its JSON pointer in cas.json) and <c>data-value</c> (its exact value).
/// </summary>
public static class CasHtml
{
    /// <summary>The page, with the full cas.json at its end.</summary>
    public static string Page(CasResult result, string json)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<title>Classification Accuracy Score</title>\n<style>\n").Append(ReportStyle.Base).Append("img{image-rendering:pixelated;margin-right:12px}\n</style>\n</head>\n<body>\n");
        html.Append("<h1>Classification Accuracy Score</h1>\n");
        html.Append($"<p>The in-product classifier ({E(result.Geometry)} images, {result.ClassNames.Count} classes) trained on synthetic images only, on as many real images, ");
        html.Append($"and on both (naive augmentation), each scored on {result.TestImages} real test images. Batch size {result.Classifier.BatchSize}, ");
        html.Append($"learning rate {R(result.Classifier.LearningRate)}, seed {result.Classifier.Seed}; epochs: {E(result.EpochRule)}. Device {E(result.Device)}.</p>\n");

        html.Append("<table>\n<tr><th class=\"l\">trained on</th><th class=\"l\">images</th><th>train images</th><th>epochs</th><th>top-1 on real test</th><th>train s</th></tr>\n");
        var keys = new[] { "synthetic_only", "real_only", "augmented" };
        var runs = CasReportWriter.Runs(result);
        var sources = new[] { result.Synthetic, result.RealTrain, $"{result.RealTrain} + {result.Synthetic}" };
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"l\">{E(run.TrainedOn)}</td><td class=\"l\">{E(sources[i])}</td><td>{run.TrainImages}</td><td>{run.Epochs}</td>");
            html.Append(Cell($"/{keys[i]}/top1", run.Top1)).Append(CultureInfo.InvariantCulture, $"<td>{run.TrainSeconds:F1}</td></tr>\n");
        }
        html.Append("</table>\n");
        html.Append($"<p>CAS / real = {Span("/cas_over_real", result.CasOverReal)} (1 means the synthetic images train the classifier as well as as many real ones). ");
        html.Append($"Real test set: {E(result.RealTest)}.</p>\n");

        html.Append("<h2>Per-class accuracy on the real test set</h2>\n<table>\n<tr><th>id</th><th class=\"l\">class</th><th>test images</th>");
        foreach (var run in runs) html.Append($"<th>{E(run.TrainedOn)}</th>");
        html.Append("</tr>\n");
        for (var c = 0; c < result.ClassNames.Count; c++)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{c}</td><td class=\"l\">{E(result.ClassNames[c])}</td><td>{result.SyntheticOnly.ClassCounts[c]}</td>");
            for (var i = 0; i < runs.Count; i++)
                html.Append(runs[i].PerClassAccuracy[c] is { } a ? Cell($"/{keys[i]}/per_class_accuracy/{c}", a) : "<td>-</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");

        html.Append("<h2>Confusion matrices</h2>\n<p>Rows: true class; columns: predicted class (ids as in the table); shade: fraction of the row.</p>\n<p>");
        for (var i = 0; i < runs.Count; i++) html.Append($"<img src=\"{CasReportWriter.ConfusionFiles[i]}\" alt=\"confusion matrix, trained on {E(runs[i].TrainedOn)}\"/>");
        html.Append("</p>\n<h2>cas.json</h2>\n<details><summary>the full JSON</summary>\n<pre>").Append(E(json)).Append("</pre>\n</details>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Cell(string key, double value) => $"<td data-key=\"{key}\" data-value=\"{R(value)}\">{value.ToString("F4", CultureInfo.InvariantCulture)}</td>";

    private static string Span(string key, double value) => $"<span data-key=\"{key}\" data-value=\"{R(value)}\">{value.ToString("F4", CultureInfo.InvariantCulture)}</span>";

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string E(string text) => Xml.Escape(text);
}
