using System.Text;
using System.Text.Json;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Classification;

/// <summary>
/// Writes a Classification Accuracy Score folder, each file atomically: <c>cas.json</c> (every number), <c>cas.html</c>
/// (self-contained apart from the pictures beside it) and one confusion-matrix PNG per run.
/// </summary>
public static class CasReportWriter
{
    /// <summary>File name of the JSON.</summary>
    public const string JsonFile = "cas.json";

    /// <summary>File name of the page.</summary>
    public const string HtmlFile = "cas.html";

    /// <summary>The confusion-matrix pictures of the synthetic-only, real-only and augmented runs.</summary>
    public static readonly IReadOnlyList<string> ConfusionFiles = ["confusion-synthetic.png", "confusion-real.png", "confusion-augmented.png"];

    /// <summary>Writes every file into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(CasResult result, string directory)
    {
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(result, MemorizationReportWriter.JsonOptions) + "\n";
        AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), Encoding.UTF8.GetBytes(json));
        var runs = Runs(result);
        for (var i = 0; i < runs.Count; i++)
            AtomicFile.WriteAllBytes(Path.Combine(directory, ConfusionFiles[i]), CasConfusionPicture.Render(runs[i].Confusion, $"trained on {runs[i].TrainedOn}"));
        AtomicFile.WriteAllBytes(Path.Combine(directory, HtmlFile), Encoding.UTF8.GetBytes(CasHtml.Page(result, json)));
    }

    /// <summary>Reads cas.json from <paramref name="directory"/>.</summary>
    public static CasResult Read(string directory) =>
        JsonSerializer.Deserialize<CasResult>(File.ReadAllBytes(Path.Combine(directory, JsonFile)), MemorizationReportWriter.JsonOptions)
        ?? throw new InvalidDataException($"{Path.Combine(directory, JsonFile)}: empty");

    /// <summary>The three runs in the order of <see cref="ConfusionFiles"/>.</summary>
    public static IReadOnlyList<CasRun> Runs(CasResult result) => [result.SyntheticOnly, result.RealOnly, result.Augmented];
}
