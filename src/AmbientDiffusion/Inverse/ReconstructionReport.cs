using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Writes a reconstruction run into a folder: the reconstructions as a sample set (samples.safetensors, samples.npz,
/// grid.png: what <c>ambient evaluate</c> reads for FD / KID), report.json (settings, mean and per-image metrics of the
/// reconstructions and the baselines), comparison.png (per row: measurement, baselines, reconstructions, clean) and
/// report.html.
/// </summary>
public static class ReconstructionReport
{
#pragma warning disable CS1591
    public const string JsonFile = "report.json", HtmlFile = "report.html", ComparisonFile = "comparison.png";
#pragma warning restore CS1591

    /// <summary>Rows of comparison.png.</summary>
    public const int ComparisonRows = 8;

    private static readonly JsonSerializerOptions Json = Common.FiniteJson.Indented();

    /// <summary>Writes every output; <paramref name="settings"/> (measurements, prior, options) go into the metadata and the report.</summary>
    public static void Write(string directory, ReconstructionResult result, IReadOnlyDictionary<string, string> settings, int samplesPerMeasurement)
    {
        Directory.CreateDirectory(directory);
        SampleSet.Write(directory, result.Samples, result.Seeds, settings);
        var means = result.Metrics.ToDictionary(m => m.Key, m => m.Value.ToDictionary(v => v.Key, v => v.Value.Average()));
        var report = new Dictionary<string, object>
        {
            ["settings"] = settings,
            ["count"] = result.MeasurementView.shape[0],
            ["samples_per_measurement"] = samplesPerMeasurement,
            ["sampling_seconds"] = Math.Round(result.SamplingSeconds, 2),
            ["mean"] = means,
            ["per_image"] = result.Metrics,
            ["seeds"] = result.Seeds,
        };
        File.WriteAllText(Path.Combine(directory, JsonFile), JsonSerializer.Serialize(report, Json));
        WriteComparison(Path.Combine(directory, ComparisonFile), result, samplesPerMeasurement);
        File.WriteAllText(Path.Combine(directory, HtmlFile), Html(settings, means, result, samplesPerMeasurement));
    }

    private static void WriteComparison(string path, ReconstructionResult result, int k)
    {
        using var scope = torch.NewDisposeScope();
        var (n, c, h, w) = ((int)result.MeasurementView.shape[0], (int)result.MeasurementView.shape[1], (int)result.MeasurementView.shape[2], (int)result.MeasurementView.shape[3]);
        var rows = Math.Min(n, ComparisonRows);
        var shownSamples = Math.Min(k, 4);
        var tiles = new List<byte[]>();
        byte[] Tile(Tensor images, int index) => ImageGrid.BytesToRgb(images[index].contiguous().data<byte>(), c, h, w);
        for (var j = 0; j < rows; j++)
        {
            if (result.Masks is { } masks)
            {
                var values = (result.MeasurementView[j].to(ScalarType.Float32) / 127.5 - 1).contiguous().data<float>();
                tiles.Add(ImageGrid.ToRgb(values, c, h, w, masks[j].to(ScalarType.Float32).contiguous().data<float>()));
            }
            else tiles.Add(Tile(result.MeasurementView, j));
            foreach (var baseline in result.Baselines.Values) tiles.Add(Tile(baseline, j));
            for (var s = 0; s < shownSamples; s++) tiles.Add(Tile(result.Samples, j * k + s));
            if (result.Clean is { } clean) tiles.Add(Tile(clean, j));
        }
        var columns = tiles.Count / rows;
        AtomicFile.WriteAllBytes(path, ImageSheet.Png(tiles, h, w, columns, gap: 2));
    }

    private static string Html(IReadOnlyDictionary<string, string> settings, Dictionary<string, Dictionary<string, double>> means, ReconstructionResult result, int k)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><meta charset=\"utf-8\"><title>Reconstruction</title>");
        html.Append("<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}img{image-rendering:pixelated;width:min(100%, 900px)}</style>");
        html.Append("<h1>Reconstruction</h1><table>");
        foreach (var (key, value) in settings) html.Append(CultureInfo.InvariantCulture, $"<tr><th>{Xml.Escape(key)}</th><td style=\"text-align:left\">{Xml.Escape(value)}</td></tr>");
        html.Append("</table><h2>Mean metrics</h2><table><tr><th>method</th><th>PSNR (dB)</th><th>SSIM</th><th>‖A x̂ − y‖</th></tr>");
        foreach (var (method, values) in means)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Xml.Escape(method)}</td><td>{Cell(values, "psnr", "F2")}</td><td>{Cell(values, "ssim", "F3")}</td><td>{Cell(values, "consistency", "F3")}</td></tr>");
        var columns = new List<string> { "measurement" };
        columns.AddRange(result.Baselines.Keys);
        columns.AddRange(Enumerable.Range(0, Math.Min(k, 4)).Select(s => $"sample {s}"));
        if (result.Clean is not null) columns.Add("clean");
        html.Append(CultureInfo.InvariantCulture, $"</table><h2>Comparison</h2><p>Columns: {Xml.Escape(string.Join(", ", columns))}.</p><img src=\"{ComparisonFile}\" alt=\"comparison\">");
        html.Append(CultureInfo.InvariantCulture, $"<p>Per-image values: <a href=\"{JsonFile}\">{JsonFile}</a>; reconstructions: {SampleSet.TensorFile} (FD / KID: <code>ambient evaluate</code>).</p>");
        return html.ToString();
    }

    private static string Cell(Dictionary<string, double> values, string key, string format) =>
        values.TryGetValue(key, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
}
