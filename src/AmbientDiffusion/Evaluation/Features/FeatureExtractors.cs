using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>Options of the TorchScript extractors; each default is the preset's reference behaviour.</summary>
public sealed record FeatureExtractorOptions
{
    /// <summary>Images per forward call.</summary>
    public int BatchSize { get; init; } = TorchScriptFeatureExtractor.DefaultBatchSize;

    /// <summary>Add ImageNet mean/std normalisation to DINOv2's input (the ambient reference code has none).</summary>
    public bool Dinov2ImageNetNormalization { get; init; }

    /// <summary>SSCD's resize (null: the README's short side 288).</summary>
    public FeatureResize? SscdResize { get; init; }

    /// <summary>Preprocessing for <c>torchscript:FILE</c> (default: [0, 1] input, nothing else).</summary>
    public FeaturePreprocessing TorchScript { get; init; } = new();
}

/// <summary>The one factory from a <see cref="FeatureSpec"/> to its <see cref="IFeatureExtractor"/>.</summary>
public static class FeatureExtractors
{
    /// <summary>
    /// The extractor for <paramref name="spec"/> computing on <paramref name="device"/>. TorchScript files are loaded here,
    /// so a missing or unreadable file fails now, naming it.
    /// </summary>
    public static IFeatureExtractor Create(FeatureSpec spec, Device device, FeatureExtractorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(device);
        options ??= new FeatureExtractorOptions();
        return spec.Kind switch
        {
            FeatureExtractorKind.Pixels => new PixelFeatureExtractor(device),
            FeatureExtractorKind.Classifier => ClassifierFeatureExtractor.Open(spec.File ?? throw new ArgumentException($"feature space '{spec}' needs a file"), device),
            FeatureExtractorKind.Inception => TorchScript(spec, TorchScriptPreset.Inception, device, options),
            FeatureExtractorKind.Dinov2 => TorchScript(spec, TorchScriptPreset.Dinov2(options.Dinov2ImageNetNormalization), device, options),
            FeatureExtractorKind.Sscd => TorchScript(spec, TorchScriptPreset.Sscd(options.SscdResize), device, options),
            FeatureExtractorKind.TorchScript => TorchScript(spec, TorchScriptPreset.Custom(options.TorchScript), device, options),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown feature extractor kind"),
        };
    }

    private static TorchScriptFeatureExtractor TorchScript(FeatureSpec spec, TorchScriptPreset preset, Device device, FeatureExtractorOptions options) =>
        new(spec.File ?? throw new ArgumentException($"feature space '{spec}' needs a file"), preset, device, options.BatchSize);
}
