using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Rounds;

namespace AmbientDiffusion.Loops;

/// <summary>The marker of a finished generation: <c>generation.json</c> with the generation's resolved config and the
/// loop settings that composed its data (the number of generations aside, so that a loop can be extended).</summary>
public static class GenerationMarker
{
    /// <summary>Whether <paramref name="run"/> finished with exactly <paramref name="config"/>.</summary>
    public static bool IsFinished(RunDirectory run, ExperimentConfig config, LoopSettings loop) =>
        RoundMarker.Matches(LoopLayout.Marker(run), new Dictionary<string, string> { ["config"] = ConfigLoader.ToYaml(config), ["loop"] = LoopYaml(loop) });

    /// <summary>Writes the marker.</summary>
    public static void Write(RunDirectory run, ExperimentConfig config, LoopSettings loop, GenerationPlan plan) =>
        RoundMarker.Write(LoopLayout.Marker(run), new
        {
            generation = plan.Generation,
            real_images = plan.RealIndices.Count,
            synthetic_sets = plan.SyntheticFrom,
            training_images = plan.TrainingCount,
            config = ConfigLoader.ToYaml(config),
            loop = LoopYaml(loop),
        });

    private static string LoopYaml(LoopSettings loop) => Common.Yaml.Serializer.Serialize(loop with { Generations = 1 });
}
