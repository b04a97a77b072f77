namespace AmbientDiffusion.Evaluation.Features;

/// <summary>
/// A TorchScript feature network's calling convention: its preprocessing and the boolean keyword arguments of its
/// forward call. One static member per preset, each following its reference code (see docs/evaluation.md).
/// </summary>
/// <param name="Name">Short name used in reports (<c>inception</c>, <c>dinov2</c>, <c>sscd</c>, <c>torchscript</c>).</param>
/// <param name="Preprocessing">What is done to the images before and to the rows after the network.</param>
/// <param name="Kwargs">Boolean keyword arguments of forward (Inception's <c>return_features=True</c>).</param>
public sealed record TorchScriptPreset(string Name, FeaturePreprocessing Preprocessing, IReadOnlyDictionary<string, bool> Kwargs)
{
    /// <summary>DINOv2's patch size: inputs are padded to a multiple of it.</summary>
    public const int Dinov2PatchSize = 14;

    /// <summary>SSCD README's recommended short side.</summary>
    public const int SscdShortSide = 288;

    private static readonly IReadOnlyDictionary<string, bool> NoKwargs = new Dictionary<string, bool>();

    /// <summary>
    /// EDM's <c>fid.py</c> / StyleGAN3's metric_utils with <c>inception-2015-12-05.pt</c>: uint8 [N, 3, H, W] in (the network
    /// resizes to 299 and scales itself), <c>return_features=True</c>, 2048-d pool features, not normalised.
    /// </summary>
    public static TorchScriptPreset Inception { get; } = new("inception",
        new FeaturePreprocessing { InputRange = FeatureInputRange.Uint8 },
        new Dictionary<string, bool> { ["return_features"] = true });

    /// <summary>
    /// The ambient-diffusion authors' DINOv2 neighbour search (<c>find_dataset_neighbors.py</c>): images in [0, 1],
    /// reflect-padded to a multiple of 14, no ImageNet normalisation (<paramref name="imageNetNormalization"/> adds it),
    /// CLS features scaled to unit norm.
    /// </summary>
    public static TorchScriptPreset Dinov2(bool imageNetNormalization = false) => new("dinov2",
        new FeaturePreprocessing
        {
            InputRange = FeatureInputRange.ZeroOne,
            Mean = imageNetNormalization ? FeaturePreprocessing.ImageNetMean : null,
            Std = imageNetNormalization ? FeaturePreprocessing.ImageNetStd : null,
            PadMultiple = Dinov2PatchSize,
            UnitNormalize = true,
        },
        NoKwargs);

    /// <summary>
    /// The SSCD README's inference recipe: <c>Resize(288)</c> on the short side (or <paramref name="resize"/>, e.g.
    /// <c>Exact(320, 320)</c> for its <c>skew_320</c>), <c>ToTensor</c>, ImageNet normalisation; 512-d descriptors scaled to
    /// unit norm (the network already normalises; doing it again is harmless).
    /// </summary>
    public static TorchScriptPreset Sscd(FeatureResize? resize = null) => new("sscd",
        new FeaturePreprocessing
        {
            InputRange = FeatureInputRange.ZeroOne,
            Resize = resize ?? FeatureResize.ShortSide(SscdShortSide),
            Mean = FeaturePreprocessing.ImageNetMean,
            Std = FeaturePreprocessing.ImageNetStd,
            UnitNormalize = true,
        },
        NoKwargs);

    /// <summary>Any other TorchScript network, called as <c>forward(x)</c> with explicit <paramref name="preprocessing"/>.</summary>
    public static TorchScriptPreset Custom(FeaturePreprocessing preprocessing) => new("torchscript", preprocessing, NoKwargs);

    /// <summary>
    /// Cosine similarity of SSCD descriptors above which a pair counts as a copy, as in diffusion-memorization studies
    /// (Somepalli et al. 2023). The SSCD README quotes 0.75 as its 90%-precision point on DISC.
    /// </summary>
    public const double SscdCopyThreshold = 0.5;
}
