using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// The fixed-mask sampler for ambient models (ambient-spec §5): one mask M = A ⊙ B per sample, A drawn by the training
/// data's own mask operator and B by the training's further corruption, kept for every step; the denoiser is
/// D(M ⊙ x, σ, M).
/// </summary>
/// <param name="Mask">The training data's mask operator (noise parts removed).</param>
/// <param name="Further">The further corruption the model was trained with (its δ).</param>
/// <param name="MaskChannels">Mask channels of the model (1 shared, C per channel).</param>
public sealed record FixedMaskSampling(CorruptionOperator Mask, FurtherCorruption Further, int MaskChannels) : SamplingMode
{
    /// <inheritdoc />
    public override string Describe() => $"fixed_mask({Mask.Describe()}, delta={Further.Delta.ToString(CultureInfo.InvariantCulture)})";

    /// <summary>
    /// The masks of samples with the given seeds, float32 [B, Cm, H, W]: A and then B (pixel by pixel) from one stream
    /// keyed by the sample's seed, so a sample's mask depends on its seed only.
    /// </summary>
    public Tensor DrawMasks(IReadOnlyList<ulong> seeds, int imageChannels, int resolution)
    {
        var (c, r, cm) = (imageChannels, resolution, MaskChannels);
        var values = new float[seeds.Count * cm * r * r];
        for (var b = 0; b < seeds.Count; b++)
        {
            var random = RandomStreams.For(RandomStream.SamplerMask, seeds[b]);
            var sample = new CorruptionSample(new float[c * r * r], c, r, r, cm);
            Mask.Apply(sample, random);
            for (var i = 0; i < cm * r * r; i++)
                values[b * cm * r * r + i] = sample.Mask[i] != 0 && Further.Keeps(random) ? 1f : 0f;
        }
        return torch.tensor(values, [seeds.Count, cm, r, r]);
    }
}
