namespace AmbientDiffusion.Evaluation.Features;

/// <summary>The feature extractors the product knows; each has its preprocessing fixed by its reference code.</summary>
public enum FeatureExtractorKind
{
    /// <summary>Pixels in [0, 1], flattened.</summary>
    Pixels,

    /// <summary>The penultimate layer of the in-product classifier (<c>ambient classifier train</c>).</summary>
    Classifier,

    /// <summary>The TorchScript Inception-v3 of EDM / StyleGAN3 metrics (2048-d pool features): FD in it is FID.</summary>
    Inception,

    /// <summary>A user-exported TorchScript DINOv2 (CLS features, L2-normalised).</summary>
    Dinov2,

    /// <summary>The official SSCD TorchScript copy-detection descriptor (512-d, L2-normalised).</summary>
    Sscd,

    /// <summary>Any TorchScript module taking float images, with explicit preprocessing options.</summary>
    TorchScript,
}

/// <summary>
/// A feature space as users write it: <c>pixels</c>, or <c>KIND:FILE</c> (<c>classifier:clf.safetensors</c>,
/// <c>inception:inception-2015-12-05.pt</c>, <c>dinov2:FILE</c>, <c>sscd:FILE</c>, <c>torchscript:FILE</c>).
/// </summary>
public sealed record FeatureSpec(FeatureExtractorKind Kind, string? File = null)
{
    /// <summary>The default space: pixels.</summary>
    public static FeatureSpec Pixels { get; } = new(FeatureExtractorKind.Pixels);

    /// <summary>Parses <c>pixels</c> or <c>KIND:FILE</c>; throws <see cref="ArgumentException"/> naming the text and the accepted forms.</summary>
    public static FeatureSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var file = colon < 0 ? null : text[(colon + 1)..].Trim();
        FeatureExtractorKind? kind = name switch
        {
            "pixels" => FeatureExtractorKind.Pixels,
            "classifier" => FeatureExtractorKind.Classifier,
            "inception" => FeatureExtractorKind.Inception,
            "dinov2" => FeatureExtractorKind.Dinov2,
            "sscd" => FeatureExtractorKind.Sscd,
            "torchscript" => FeatureExtractorKind.TorchScript,
            _ => null,
        };
        if (kind is null) throw new ArgumentException($"feature space '{text}': expected pixels, classifier:FILE, inception:FILE, dinov2:FILE, sscd:FILE or torchscript:FILE");
        if (kind == FeatureExtractorKind.Pixels && !string.IsNullOrEmpty(file)) throw new ArgumentException($"feature space '{text}': pixels takes no file");
        if (kind != FeatureExtractorKind.Pixels && string.IsNullOrEmpty(file)) throw new ArgumentException($"feature space '{text}': {name} needs a file, as {name}:FILE");
        return new FeatureSpec(kind.Value, file);
    }

    /// <summary>The text form that <see cref="Parse"/> reads back.</summary>
    public override string ToString() => File is null ? Name : $"{Name}:{File}";

    /// <summary>The kind's lower-case name, as written in configs and reports.</summary>
    public string Name => Kind.ToString().ToLowerInvariant();
}
