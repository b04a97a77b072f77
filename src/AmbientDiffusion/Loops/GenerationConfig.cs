using System.Globalization;
using AmbientDiffusion.Config;
using AmbientDiffusion.Diffusion;

namespace AmbientDiffusion.Loops;

/// <summary>
/// The ordinary experiment config of one generation, made from the loop config: it trains on the generation's files
/// (<c>data.corrupted</c>, <c>data.prepared</c>; no dataset or corruption section, no loop section), with its own training
/// seed, the seeds of its synthetic set and the loop's guidance. In the ambient arm, later generations train with the
/// Tweedie loss and Ambient-Omni's σ floor (the clean real images have σ_n = 0, so for them the loss is EDM's).
/// </summary>
public static class GenerationConfig
{
    /// <summary>Training seeds of successive generations lie this far apart, so that arms run with seeds s and s + 1
    /// never share a generation's seed.</summary>
    public const ulong SeedStride = 1_000_003;

    /// <summary>The config of <paramref name="generation"/> of <paramref name="loop"/> training on the given files.</summary>
    public static ExperimentConfig For(ExperimentConfig loop, int generation, string corruptedPath, string cleanPath)
    {
        var settings = loop.Loop ?? throw new ArgumentException($"{loop.Name}: not a loop config (no loop section)");
        var config = ConfigLoader.Parse(ConfigLoader.ToYaml(loop), $"{loop.Name} (loop)");
        config.Loop = null;
        config.Dataset = null;
        config.Corruption = null;
        config.Name = $"{loop.Name}-gen{generation.ToString("D2", CultureInfo.InvariantCulture)}";
        config.Seed = loop.Seed + (ulong)(generation - 1) * SeedStride;
        config.Data.Corrupted = corruptedPath;
        config.Data.Prepared = cleanPath;
        var first = (ulong)(generation - 1) * (ulong)settings.SyntheticCount;
        config.Sampling = config.Sampling with
        {
            Seeds = $"{first.ToString(CultureInfo.InvariantCulture)}-{(first + (ulong)settings.SyntheticCount - 1).ToString(CultureInfo.InvariantCulture)}",
            Guidance = settings.Guidance,
        };
        if (settings.SyntheticAs == SyntheticUse.Noisy && generation > 1)
            config.Loss = config.Loss with { Kind = LossKind.Tweedie, SigmaFloorFactor = LoopSettings.SigmaFloorFactor };
        config.Validate();
        return config;
    }
}
