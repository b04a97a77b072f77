using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Representation;

/// <summary>
/// Writes a representation-probe folder, each file atomically: <c>represent.json</c> (every number) and
/// <c>represent.html</c>, whose numbers carry <c>data-key</c> (JSON pointer) and <c>data-value</c> (exact value).
/// </summary>
public static class RepresentationReportWriter
{
    /// <summary>File name of the JSON.</summary>
    public const string JsonFile = "represent.json";

    /// <summary>File name of the page.</summary>
    public const string HtmlFile = "represent.html";

    /// <summary>Writes both files into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(RepresentResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(result, MemorizationReportWriter.JsonOptions) + "\n";
        AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), Encoding.UTF8.GetBytes(json));
        AtomicFile.WriteAllBytes(Path.Combine(directory, HtmlFile), Encoding.UTF8.GetBytes(Page(result, json)));
    }

    /// <summary>Reads represent.json from <paramref name="directory"/>.</summary>
    public static RepresentResult Read(string directory) =>
        JsonSerializer.Deserialize<RepresentResult>(File.ReadAllBytes(Path.Combine(directory, JsonFile)), MemorizationReportWriter.JsonOptions)
        ?? throw new InvalidDataException($"{Path.Combine(directory, JsonFile)}: empty");

    /// <summary>The three encoders in report order, with their JSON keys.</summary>
    public static IReadOnlyList<(string Key, RepresentRun Run)> Runs(RepresentResult result) =>
        [("synthetic_encoder", result.SyntheticEncoder), ("real_encoder", result.RealEncoder), ("untrained", result.Untrained)];

    private static string Page(RepresentResult result, string json)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        html.Append("<title>Representation probe</title>\n<style>\n").Append(ReportStyle.Base).Append("</style>\n</head>\n<body>\n<h1>Representation probe</h1>\n");
        var e = result.Encoder;
        html.Append(CultureInfo.InvariantCulture, $"<p>A {result.EncoderParameters}-parameter conv encoder trained with the multi-positive contrastive loss (temperature {R(e.Temperature)}, ");
        html.Append(CultureInfo.InvariantCulture, $"{e.Epochs} epochs, batch {e.BatchSize}, {e.PositivesPerSet} images per positive set, Adam {R(e.LearningRate)}, seed {e.Seed}; ");
        html.Append(CultureInfo.InvariantCulture, $"views: crop with {e.Views.CropPadding}-pixel padding, flip p = {R(e.Views.FlipProbability)}, noise σ = {R(e.Views.NoiseStd)}), ");
        html.Append(CultureInfo.InvariantCulture, $"then a linear probe (logistic regression on L2-normalised features, {result.Probe.Epochs} epochs, Adam {R(result.Probe.LearningRate)}) ");
        html.Append(CultureInfo.InvariantCulture, $"trained on {result.ProbeTrainImages} real labelled images and tested on {result.TestImages} real test images ({E(result.RealTest)}). Device {E(result.Device)}.</p>\n");
        html.Append("<table>\n<tr><th class=\"l\">encoder</th><th class=\"l\">positives</th><th>train images</th><th>last epoch loss</th><th>probe top-1</th><th>train s</th></tr>\n");
        foreach (var (key, run) in Runs(result))
        {
            var loss = run.EpochLosses.Length > 0 ? Cell($"/{key}/epoch_losses/{run.EpochLosses.Length - 1}", run.EpochLosses[^1]) : "<td>-</td>";
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"l\">{E(run.Encoder)}</td><td class=\"l\">{E(run.Positives)}</td><td>{run.TrainImages}</td>{loss}");
            html.Append(Cell($"/{key}/top1", run.Top1)).Append(CultureInfo.InvariantCulture, $"<td>{run.TrainSeconds:F1}</td></tr>\n");
        }
        html.Append("</table>\n");
        html.Append($"<p>synthetic / real = <span data-key=\"/synthetic_over_real\" data-value=\"{R(result.SyntheticOverReal)}\">{result.SyntheticOverReal.ToString("F4", CultureInfo.InvariantCulture)}</span>. ");
        html.Append($"Synthetic: {E(result.Synthetic)}. Real: {E(result.Real)}.</p>\n");
        html.Append("<h2>Per-class probe accuracy</h2>\n<table>\n<tr><th>id</th><th class=\"l\">class</th>");
        foreach (var (_, run) in Runs(result)) html.Append($"<th>{E(run.Encoder)}</th>");
        html.Append("</tr>\n");
        for (var c = 0; c < result.ClassNames.Count; c++)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{c}</td><td class=\"l\">{E(result.ClassNames[c])}</td>");
            foreach (var (key, run) in Runs(result)) html.Append(run.PerClassAccuracy[c] is { } a ? Cell($"/{key}/per_class_accuracy/{c}", a) : "<td>-</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n<h2>represent.json</h2>\n<details><summary>the full JSON</summary>\n<pre>").Append(E(json)).Append("</pre>\n</details>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Cell(string key, double value) => $"<td data-key=\"{key}\" data-value=\"{R(value)}\">{value.ToString("F4", CultureInfo.InvariantCulture)}</td>";

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string E(string text) => Xml.Escape(text);
}
