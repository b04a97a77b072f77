namespace AmbientDiffusion.Evaluation.Features;

/// <summary>The value range a feature network expects its images in.</summary>
public enum FeatureInputRange
{
    /// <summary>uint8 values 0..255, passed as a uint8 tensor (EDM / StyleGAN3 Inception).</summary>
    Uint8,

    /// <summary>float32 in [0, 1] (torchvision's <c>ToTensor</c>).</summary>
    ZeroOne,

    /// <summary>float32 in [-1, 1].</summary>
    MinusOneOne,
}

/// <summary>How images are resized before a feature network; resizing is bilinear with antialiasing.</summary>
public enum FeatureResizeMode
{
    /// <summary>The shorter side becomes <see cref="FeatureResize.Height"/>, the aspect ratio is kept (torchvision <c>Resize(n)</c>).</summary>
    ShortSide,

    /// <summary>Exactly <see cref="FeatureResize.Height"/> x <see cref="FeatureResize.Width"/> (torchvision <c>Resize([h, w])</c>).</summary>
    Exact,
}

/// <summary>A resize step: <see cref="ShortSide"/> or <see cref="Exact"/>.</summary>
public sealed record FeatureResize(FeatureResizeMode Mode, int Height, int Width)
{
    /// <summary>Shorter side to <paramref name="size"/>, aspect kept.</summary>
    public static FeatureResize ShortSide(int size) => new(FeatureResizeMode.ShortSide, size, size);

    /// <summary>Exactly <paramref name="height"/> x <paramref name="width"/>.</summary>
    public static FeatureResize Exact(int height, int width) => new(FeatureResizeMode.Exact, height, width);

    /// <summary>
    /// Output (height, width) for an input of <paramref name="height"/> x <paramref name="width"/>; the long side of a
    /// short-side resize is truncated as torchvision does (<c>int(size * long / short)</c>).
    /// </summary>
    public (long Height, long Width) OutputSize(long height, long width)
    {
        if (Mode == FeatureResizeMode.Exact) return (Height, Width);
        return height <= width ? (Height, (long)((double)Height * width / height)) : ((long)((double)Height * height / width), Height);
    }

    /// <inheritdoc />
    public override string ToString() => Mode == FeatureResizeMode.Exact ? $"{Height}x{Width}" : $"short side {Height}";
}

/// <summary>
/// What is done to uint8 [N, C, H, W] images before a feature network, in this order: grayscale replicated to the
/// network's channels; <see cref="Resize"/> (on the 0..255 grid, rounded back to whole values as torchvision does for
/// 8-bit images); scaling to <see cref="InputRange"/>; per-channel <c>(x - Mean) / Std</c>; reflection padding (split
/// evenly, the odd pixel at the end) to a multiple of <see cref="PadMultiple"/>; after the network, optionally rows
/// scaled to unit L2 norm.
/// </summary>
public sealed record FeaturePreprocessing
{
    /// <summary>torchvision's ImageNet channel means.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>torchvision's ImageNet channel standard deviations.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>The value range the network expects.</summary>
    public FeatureInputRange InputRange { get; init; } = FeatureInputRange.ZeroOne;

    /// <summary>Resize before the network; null keeps the size.</summary>
    public FeatureResize? Resize { get; init; }

    /// <summary>Per-channel means subtracted after scaling (null: none); needs <see cref="Std"/>.</summary>
    public IReadOnlyList<float>? Mean { get; init; }

    /// <summary>Per-channel standard deviations divided by after scaling (null: none); needs <see cref="Mean"/>.</summary>
    public IReadOnlyList<float>? Std { get; init; }

    /// <summary>Reflection-pad height and width up to a multiple of this (1: no padding).</summary>
    public int PadMultiple { get; init; } = 1;

    /// <summary>Scale feature rows to unit L2 norm (neighbours compared by cosine).</summary>
    public bool UnitNormalize { get; init; }

    /// <summary>Channels the network takes; grayscale images are replicated to this many.</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent option.</summary>
    public void Validate()
    {
        if (Channels < 1) throw new ArgumentException($"preprocessing channels {Channels}: expected at least 1");
        if (PadMultiple < 1) throw new ArgumentException($"preprocessing pad multiple {PadMultiple}: expected at least 1");
        if (Resize is { } r && (r.Height < 1 || r.Width < 1)) throw new ArgumentException($"preprocessing resize {r}: sizes must be positive");
        if ((Mean is null) != (Std is null)) throw new ArgumentException("preprocessing normalisation needs both mean and std, or neither");
        if (Mean is not null && (Mean.Count != Channels || Std!.Count != Channels))
            throw new ArgumentException($"preprocessing mean/std have {Mean.Count}/{Std!.Count} values: expected one per channel ({Channels})");
        if (Std is not null && Std.Any(s => !(s > 0))) throw new ArgumentException("preprocessing std values must be positive");
        if (InputRange == FeatureInputRange.Uint8 && (Mean is not null || PadMultiple > 1))
            throw new ArgumentException("uint8 network input takes no mean/std normalisation or padding (the network does its own)");
    }
}
