using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>The marker of a finished generation: <c>generation.json</c> with the generation's resolved config.</summary>
public static class GenerationMarker
{
    /// <summary>Whether <paramref name="run"/> finished with exactly <paramref name="config"/>.</summary>
    public static bool IsFinished(RunDirectory run, ExperimentConfig config)
    {
        var file = LoopLayout.Marker(run);
        if (!File.Exists(file)) return false;
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        return json.RootElement.TryGetProperty("config", out var stored) && stored.GetString() == ConfigLoader.ToYaml(config);
    }

    /// <summary>Writes the marker.</summary>
    public static void Write(RunDirectory run, ExperimentConfig config, GenerationPlan plan) =>
        AtomicFile.WriteAllBytes(LoopLayout.Marker(run), JsonSerializer.SerializeToUtf8Bytes(new
        {
            generation = plan.Generation,
            real_images = plan.RealIndices.Count,
            synthetic_sets = plan.SyntheticFrom,
            training_images = plan.TrainingCount,
            config = ConfigLoader.ToYaml(config),
        }, Indented));

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
