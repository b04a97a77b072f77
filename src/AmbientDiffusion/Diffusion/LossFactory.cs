using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;

namespace AmbientDiffusion.Diffusion;

/// <summary>Builds the configured loss and checks that it suits the data.</summary>
public static class LossFactory
{
    /// <summary>The loss of <paramref name="settings"/> for <paramref name="data"/>; <paramref name="seed"/> keys fixed
    /// further corruption. A loss that does not suit the data is a <see cref="SettingException"/> on <c>kind</c>.</summary>
    public static DiffusionLoss Create(LossSettings settings, CorruptedDataset data, ulong seed)
    {
        var sigmas = new NoiseLevelDistribution(settings.PMean, settings.PStd);
        switch (settings.Kind)
        {
            case LossKind.Edm:
                SettingException.Check(!data.HasMissingPixels && !data.HasNoise, "kind", settings.Kind,
                    $"a loss for corrupted data: {data.Path} has missing pixels or noise (use ambient for masks, tweedie for noise, or naive for the baseline)");
                return new EdmLoss(sigmas);
            case LossKind.Naive:
                return new EdmLoss(sigmas, naive: true);
            case LossKind.Ambient:
                SettingException.Check(!data.HasNoise, "kind", settings.Kind, $"tweedie: {data.Path} has noisy images, and the ambient loss is for masked data");
                return new AmbientLoss(sigmas, new FurtherCorruption(settings.Delta, settings.FurtherCorruption), seed);
            case LossKind.Tweedie:
                SettingException.Check(!data.HasMissingPixels, "kind", settings.Kind, $"ambient: {data.Path} has missing pixels, and the Tweedie loss handles noise only");
                return new TweedieLoss(sigmas, settings.TweedieWeighting, new ConsistencyOptions(settings.ConsistencyWeight, settings.ConsistencySteps), settings.SigmaFloorFactor ?? 1);
            default:
                throw new SettingException("kind", settings.Kind, Yaml.Choices<LossKind>());
        }
    }
}
