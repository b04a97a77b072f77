using System.Text.Json;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary><c>sigma_tn.json</c> of a generation: the σ_tn of each image of its synthetic set in the ambient arm (fixed or
/// estimated), with the classifier's accuracy per grid level when estimated. Written once, so every later generation
/// that uses the set sees the same levels.</summary>
public static class SigmaTnFile
{
    private sealed record Contents(string Method, float[] SigmaTn, IReadOnlyList<double> Grid, IReadOnlyList<double> Accuracy, double Median);

    private static readonly JsonSerializerOptions Json = Common.FiniteJson.SnakeCase(indented: true);

    /// <summary>Writes <paramref name="estimate"/> ("fixed" or "estimated").</summary>
    public static void Write(string path, SigmaTnEstimate estimate, string method)
    {
        var sorted = estimate.PerImage.Order().ToArray();
        var median = sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(new Contents(method, estimate.PerImage, estimate.Grid, estimate.Accuracy, median), Json));
    }

    /// <summary>The per-image levels, or null when the file does not exist.</summary>
    public static float[]? Read(string path)
    {
        if (!File.Exists(path)) return null;
        var contents = JsonSerializer.Deserialize<Contents>(File.ReadAllBytes(path), Json) ?? throw new InvalidDataException($"{path}: empty");
        return contents.SigmaTn;
    }
}
