using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>The marker of a finished generation: <c>generation.json</c> with the generation's resolved config and the
/// loop settings that composed its data (the number of generations aside, so that a loop can be extended).</summary>
public static class GenerationMarker
{
    /// <summary>Whether <paramref name="run"/> finished with exactly <paramref name="config"/>.</summary>
    public static bool IsFinished(RunDirectory run, ExperimentConfig config, LoopSettings loop)
    {
        var file = LoopLayout.Marker(run);
        if (!File.Exists(file)) return false;
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        return json.RootElement.TryGetProperty("config", out var stored) && stored.GetString() == ConfigLoader.ToYaml(config)
            && json.RootElement.TryGetProperty("loop", out var settings) && settings.GetString() == LoopYaml(loop);
    }

    /// <summary>Writes the marker.</summary>
    public static void Write(RunDirectory run, ExperimentConfig config, LoopSettings loop, GenerationPlan plan) =>
        AtomicFile.WriteAllBytes(LoopLayout.Marker(run), JsonSerializer.SerializeToUtf8Bytes(new
        {
            generation = plan.Generation,
            real_images = plan.RealIndices.Count,
            synthetic_sets = plan.SyntheticFrom,
            training_images = plan.TrainingCount,
            config = ConfigLoader.ToYaml(config),
            loop = LoopYaml(loop),
        }, Indented));

    private static string LoopYaml(LoopSettings loop) => Common.Yaml.Serializer.Serialize(loop with { Generations = 1 });

    private static readonly JsonSerializerOptions Indented = Common.FiniteJson.Indented();
}
