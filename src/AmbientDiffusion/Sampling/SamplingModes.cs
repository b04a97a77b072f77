using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Sampling;

/// <summary>Picks the sampling mode a checkpoint's training implies (ambient-spec §5).</summary>
public static class SamplingModes
{
    /// <summary>
    /// Fixed-mask for models that take masks (ambient), drawn like the training data's masks with the training's
    /// further corruption; early stop at σ_n for tweedie models of noisy data; plain otherwise. A tweedie model with a
    /// σ floor factor (the loop's ambient arm: clean real images beside noisy synthetic ones) learnt every σ from its
    /// clean images, so it samples plainly.
    /// </summary>
    public static SamplingMode For(CheckpointHeader header, string path)
    {
        if (header.Geometry.MaskChannels > 0)
        {
            var spec = header.DataCorruptionSpec(path) ?? throw new InvalidDataException($"{path}: a model with mask input, but the checkpoint records no 'data_corruption_spec'");
            // The sampler draws masks like the training masks; noise is not part of a mask.
            var maskOnly = (spec with { NoiseSigma = 0, NoiseFraction = 1 }).ToOperator();
            return new FixedMaskSampling(maskOnly, new FurtherCorruption(header.Loss.Delta, header.Loss.FurtherCorruption), header.Geometry.MaskChannels);
        }
        return header.Loss.Kind == LossKind.Tweedie && header.DataNoiseSigmaMax > 0 && header.Loss.SigmaFloorFactor is null ? new EarlyStopSampling(header.DataNoiseSigmaMax) : SamplingMode.Plain;
    }
}
