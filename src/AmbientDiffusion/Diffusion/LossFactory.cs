using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;

namespace AmbientDiffusion.Diffusion;

/// <summary>Builds the configured loss and checks that it suits the data.</summary>
public static class LossFactory
{
    /// <summary>The loss of <paramref name="section"/> for <paramref name="data"/>; <paramref name="seed"/> keys fixed further corruption.</summary>
    public static DiffusionLoss Create(LossSection section, CorruptedDataset data, ulong seed)
    {
        var sigmas = new NoiseLevelDistribution(section.PMean, section.PStd);
        switch (section.Kind)
        {
            case "edm":
                if (data.HasMissingPixels || data.HasNoise)
                    throw new ConfigException($"loss.kind = edm: {data.Path} is corrupted (missing pixels or noise); use 'ambient' (masks), 'tweedie' (noise) or 'naive' for the baseline on corrupted data");
                return new EdmLoss(sigmas);
            case "naive":
                return new EdmLoss(sigmas, naive: true);
            case "ambient":
                if (data.HasNoise) throw new ConfigException($"loss.kind = ambient: {data.Path} has noisy images; the ambient loss is for masked data (use 'tweedie' for noise)");
                var mode = section.FurtherCorruption == "fixed" ? FurtherCorruptionMode.Fixed : FurtherCorruptionMode.Redraw;
                try
                {
                    return new AmbientLoss(sigmas, new FurtherCorruption(section.Delta, mode), seed);
                }
                catch (ArgumentException e)
                {
                    throw new ConfigException($"{e.Message.Split(" (Parameter")[0]} ({data.Path})");
                }
            case "tweedie":
                if (data.HasMissingPixels)
                    throw new ConfigException($"loss.kind = tweedie: {data.Path} has missing pixels; the Tweedie loss handles noise only (use 'ambient' for masks)");
                var weighting = section.TweedieWeighting == "lambda_ratio" ? TweedieWeighting.LambdaRatio : TweedieWeighting.Lambda;
                return new TweedieLoss(sigmas, weighting, new ConsistencyOptions(section.ConsistencyWeight, section.ConsistencySteps));
            default:
                throw new ConfigException($"loss.kind = {section.Kind}: expected edm, naive, ambient or tweedie");
        }
    }

    /// <summary>The reduction of <paramref name="section"/>.</summary>
    public static LossReduction Reduction(LossSection section) =>
        section.Reduction == "mean_observed" ? LossReduction.MeanObserved : LossReduction.SumPixelsMeanBatch;
}
