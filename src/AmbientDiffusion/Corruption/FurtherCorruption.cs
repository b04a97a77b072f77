using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Corruption;

/// <summary>When the further-corruption mask B is drawn.</summary>
public enum FurtherCorruptionMode
{
    /// <summary>A new B every step: the expectation over B given A, as the theory takes it (default).</summary>
    Redraw,

    /// <summary>One B per image, kept for the whole run, as the authors' official code does.</summary>
    Fixed,
}

/// <summary>
/// The ambient objective's further corruption: Ã = A ⊙ B with B ~ Bernoulli(1 - δ), shared across channels like A
/// (ambient-spec §2). The theorem needs B to be able to remove pixels that A kept, so δ = 0 is rejected. On data with
/// no missing pixels (p = 0, the clean end of a sweep) Ã = B and the objective is still well defined.
/// </summary>
public sealed record FurtherCorruption
{
    /// <summary>Creates the further corruption; δ must lie in (0, 1).</summary>
    public FurtherCorruption(double delta, FurtherCorruptionMode mode = FurtherCorruptionMode.Redraw)
    {
        if (!(delta > 0 && delta < 1))
            throw new ArgumentOutOfRangeException(nameof(delta), delta,
                delta == 0
                    ? "delta = 0: with no further corruption the ambient objective learns nothing about the pixels the masks removed; use delta > 0 (the paper uses 0.1) or the 'naive' loss"
                    : $"delta = {delta.ToString(CultureInfo.InvariantCulture)}: expected a probability in (0, 1)");
        (Delta, Mode) = (delta, mode);
    }

    /// <summary>Probability that B removes a pixel A kept.</summary>
    public double Delta { get; }

    /// <summary>Redrawn every step or fixed per image.</summary>
    public FurtherCorruptionMode Mode { get; }

    /// <summary>
    /// Ã = A ⊙ B for a batch of masks A [B, Cm, H, W] (float 0/1). In <see cref="FurtherCorruptionMode.Redraw"/> mode B comes
    /// from each example's generator in <paramref name="random"/>; in <see cref="FurtherCorruptionMode.Fixed"/> mode from (seed, image index), so an
    /// image always gets the same B.
    /// </summary>
    public Tensor Apply(Tensor masks, StackedGenerator random, ulong seed, IReadOnlyList<int> imageIndices)
    {
        var shape = masks.shape;
        using var scope = torch.NewDisposeScope();
        var keep = Mode == FurtherCorruptionMode.Redraw
            ? random.rand(shape[1..]).ge(Delta).to(masks.dtype, masks.device)
            : torch.tensor(FixedKeep(seed, imageIndices, (int)(shape[1] * shape[2] * shape[3])), shape).to(masks.dtype, masks.device);
        return scope.MoveToOuter(masks * keep);
    }

    /// <summary>Whether B keeps one pixel, drawn from a per-image stream: the keep draw of <see cref="FurtherCorruptionMode.Fixed"/>
    /// training and of the fixed-mask sampler (one pixel per call, in pixel order).</summary>
    public bool Keeps(SeededRandom random) => !(random.NextDouble() < Delta);

    private float[] FixedKeep(ulong seed, IReadOnlyList<int> imageIndices, int perImage)
    {
        var values = new float[imageIndices.Count * perImage];
        for (var b = 0; b < imageIndices.Count; b++)
        {
            var random = RandomStreams.For(RandomStream.FixedFurtherCorruption, seed, (ulong)imageIndices[b]);
            for (var i = 0; i < perImage; i++) values[b * perImage + i] = Keeps(random) ? 1f : 0f;
        }
        return values;
    }
}
