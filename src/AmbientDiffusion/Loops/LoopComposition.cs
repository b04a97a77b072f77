using AmbientDiffusion.Common;

namespace AmbientDiffusion.Loops;

/// <summary>What generation <see cref="Generation"/> trains on: real images (indices into the prepared training images;
/// the held-out split is a separate tensor and never among them) and the synthetic sets of earlier generations (each
/// whole, by the generation that sampled it).</summary>
public sealed record GenerationPlan(int Generation, IReadOnlyList<int> RealIndices, IReadOnlyList<int> SyntheticFrom, int SyntheticCount)
{
    /// <summary>Training images of the generation.</summary>
    public int TrainingCount => RealIndices.Count + SyntheticFrom.Count * SyntheticCount;
}

/// <summary>
/// The composition of a loop's training sets, a pure function of the settings, the number of prepared (real) training
/// images and the seed. Real images are drawn in one seeded permutation of the pool: the real set is its first n
/// images; <see cref="LoopType.Fresh"/> takes slice k of n for generation k, so its draws are disjoint. Generation 1
/// trains on its real draw alone; generation k &gt; 1 adds the synthetic set of generation k − 1 (or, for
/// <see cref="LoopType.Accumulate"/>, of every generation before it); <see cref="LoopType.FullySynthetic"/> drops the
/// real images after generation 1.
/// </summary>
public sealed class LoopComposition
{
    private readonly LoopSettings _settings;
    private readonly int[] _order;

    /// <summary>Checks that the pool holds enough images for every draw (the message names the key to change).</summary>
    public LoopComposition(LoopSettings settings, int realPoolCount, ulong seed)
    {
        settings.Validate();
        _settings = settings;
        RealCount = RealCountFor(settings, realPoolCount);
        var needed = settings.Type == LoopType.Fresh ? (long)RealCount * settings.Generations : RealCount;
        if (needed > realPoolCount)
            throw new SettingException(settings.RealCount > 0 ? "real_count" : "real_fraction", settings.RealCount > 0 ? settings.RealCount : settings.RealFraction,
                $"at most {realPoolCount} real images in all, the prepared training images ({(settings.Type == LoopType.Fresh ? $"fresh draws need {settings.Generations} disjoint sets of {RealCount}" : $"{RealCount} asked for")})");
        _order = RandomStreams.For(RandomStream.LoopRealDraw, seed).Permutation(realPoolCount);
    }

    /// <summary>Real images per generation.</summary>
    public int RealCount { get; }

    /// <summary>The real count of <paramref name="settings"/> for a pool of <paramref name="realPoolCount"/> images.</summary>
    public static int RealCountFor(LoopSettings settings, int realPoolCount) =>
        settings.RealCount > 0 ? settings.RealCount : Math.Max(1, (int)Math.Floor(settings.RealFraction * realPoolCount));

    /// <summary>The training set of generation <paramref name="generation"/> (1-based).</summary>
    public GenerationPlan Plan(int generation)
    {
        if (generation < 1 || generation > _settings.Generations)
            throw new ArgumentOutOfRangeException(nameof(generation), generation, $"generations run from 1 to {_settings.Generations}");
        var draw = _settings.Type == LoopType.Fresh ? generation - 1 : 0;
        var real = generation > 1 && _settings.Type == LoopType.FullySynthetic ? [] : _order.AsSpan(draw * RealCount, RealCount).ToArray();
        IReadOnlyList<int> synthetic = generation == 1 ? []
            : _settings.Type == LoopType.Accumulate ? Enumerable.Range(1, generation - 1).ToArray()
            : [generation - 1];
        return new GenerationPlan(generation, real, synthetic, _settings.SyntheticCount);
    }
}
