using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>The one place a <see cref="FeatureSpec"/> becomes an <see cref="IFeatureExtractor"/>.</summary>
public static class FeatureExtractors
{
    /// <summary>The extractor of <paramref name="spec"/>, running on <paramref name="device"/>; the caller disposes it.</summary>
    public static IFeatureExtractor Create(FeatureSpec spec, Device device)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            FeatureExtractorKind.Pixels => new PixelFeatureExtractor(device),
            FeatureExtractorKind.Classifier => throw NotYet(spec),
            FeatureExtractorKind.Inception => throw NotYet(spec),
            FeatureExtractorKind.Dinov2 => throw NotYet(spec),
            FeatureExtractorKind.Sscd => throw NotYet(spec),
            FeatureExtractorKind.TorchScript => throw NotYet(spec),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown feature extractor kind"),
        };
    }

    private static NotSupportedException NotYet(FeatureSpec spec) =>
        new($"feature space '{spec}': the {spec.Name} extractor is not in this build; use --features pixels");
}
