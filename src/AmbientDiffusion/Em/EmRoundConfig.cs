using System.Globalization;
using AmbientDiffusion.Config;
using AmbientDiffusion.Diffusion;

namespace AmbientDiffusion.Em;

/// <summary>
/// The ordinary experiment config of one EM round's M-step, made from the EM config: plain EDM (<c>loss.kind: edm</c>)
/// on the round's posterior samples (<c>data.corrupted</c>) for <see cref="EmSettings.KimgPerRound"/>, evaluated and
/// analysed against the clean prepared images (<c>data.prepared</c>; the trainer never reads them), with a training seed
/// of its own. No dataset, corruption or em section.
/// </summary>
public static class EmRoundConfig
{
    /// <summary>Training seeds of successive rounds lie this far apart, so runs with seeds s and s + 1 never share one.</summary>
    public const ulong SeedStride = 1_000_003;

    /// <summary>The config of round <paramref name="round"/> (0-based) of <paramref name="em"/>.</summary>
    public static ExperimentConfig For(ExperimentConfig em, int round, string posteriorPath, string preparedPath)
    {
        var settings = em.Em ?? throw new ArgumentException($"{em.Name}: not an EM config (no em section)");
        var config = ConfigLoader.Parse(ConfigLoader.ToYaml(em), $"{em.Name} (em)");
        config.Em = null;
        config.Dataset = null;
        config.Corruption = null;
        config.Name = $"{em.Name}-round{round.ToString("D2", CultureInfo.InvariantCulture)}";
        config.Seed = em.Seed + (ulong)round * SeedStride;
        config.Data.Corrupted = posteriorPath;
        config.Data.Prepared = preparedPath;
        config.Loss = config.Loss with { Kind = LossKind.Edm };
        config.Training = config.Training with { DurationKimg = settings.KimgPerRound };
        config.Validate();
        return config;
    }
}
