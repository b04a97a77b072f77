using System.Text;
using System.Text.Json;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>
/// Writes an evaluation folder: <c>metrics.json</c> (every number) and <c>evaluation.html</c> (self-contained), each
/// atomically; the same result gives the same bytes (no timestamps, invariant formatting, "\n" line ends).
/// </summary>
public static class MetricsReportWriter
{
    /// <summary>File name of the JSON.</summary>
    public const string JsonFile = "metrics.json";

    /// <summary>File name of the standalone page.</summary>
    public const string HtmlFile = "evaluation.html";

    /// <summary>Serializer settings of metrics.json: report.json's (snake_case, indented, nulls left out, "\n").</summary>
    public static JsonSerializerOptions JsonOptions => MemorizationReportWriter.JsonOptions;

    /// <summary>Writes both files into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(EvaluationResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(result, JsonOptions) + "\n";
        AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), Encoding.UTF8.GetBytes(json));
        AtomicFile.WriteAllBytes(Path.Combine(directory, HtmlFile), Encoding.UTF8.GetBytes(MetricsHtml.Page(result, json)));
    }

    /// <summary>Reads metrics.json from <paramref name="directory"/>, or null when there is none.</summary>
    public static EvaluationResult? Read(string directory)
    {
        var path = Path.Combine(directory, JsonFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<EvaluationResult>(File.ReadAllBytes(path), JsonOptions) : null;
    }
}
