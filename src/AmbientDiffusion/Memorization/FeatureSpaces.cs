using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>How a feature space's neighbours are summarised.</summary>
public enum FeatureMetricKind
{
    /// <summary>RMS L2 distances in [0, 1] pixel units: d1, d2, ratio, Carlini test.</summary>
    Distance,

    /// <summary>Cosine similarity of unit vectors: top-1 cosine histogram and fractions above thresholds.</summary>
    Cosine,
}

/// <summary>The built-in and external feature spaces of the memorization analyzer.</summary>
public enum FeatureSpaceKind
{
    /// <summary>Pixels in [0, 1], flattened.</summary>
    Pixels,

    /// <summary>Pixels compared with both the training image and its horizontal mirror (the smaller distance counts).</summary>
    FlipInvariant,

    /// <summary>Pixels area-averaged to a small square resolution (tolerates small shifts).</summary>
    Downsampled,

    /// <summary>Pixels in [0, 1], mean-centred per image and scaled to unit norm; compared by cosine.</summary>
    NormalizedCosine,

    /// <summary>Rows of external feature files (e.g. DINOv2 or SSCD embeddings), scaled to unit norm; compared by cosine.</summary>
    External,
}

/// <summary>Turns uint8 images into float32 feature rows on a device, in bounded chunks.</summary>
public static class FeatureSpaces
{
    /// <summary>Images converted per block (bounds the temporary float copies).</summary>
    public const int ImageChunk = 512;

    /// <summary>The metric family of a space.</summary>
    public static FeatureMetricKind MetricOf(FeatureSpaceKind kind) =>
        kind is FeatureSpaceKind.NormalizedCosine or FeatureSpaceKind.External ? FeatureMetricKind.Cosine : FeatureMetricKind.Distance;

    /// <summary>
    /// Features of uint8 [N, C, H, W] <paramref name="images"/> as float32 [N, D] on <paramref name="device"/>.
    /// <paramref name="flip"/> mirrors the images horizontally first; <paramref name="downsample"/> is the side of
    /// <see cref="FeatureSpaceKind.Downsampled"/> (ignored by the others).
    /// </summary>
    public static Tensor Compute(FeatureSpaceKind kind, Tensor images, Device device, int downsample = 16, bool flip = false)
    {
        if (kind == FeatureSpaceKind.External) throw new ArgumentException("external features are read from files, not computed", nameof(kind));
        if (images.dtype != ScalarType.Byte || images.dim() != 4) throw new ArgumentException($"features need uint8 [N, C, H, W] images, got {images}", nameof(images));
        var n = images.size(0);
        var parts = new List<Tensor>();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor? rows = null, columns = null;
        if (kind == FeatureSpaceKind.Downsampled)
        {
            rows = AreaMatrix(images.size(2), downsample, device);
            columns = AreaMatrix(images.size(3), downsample, device).transpose(0, 1);
        }
        for (long start = 0; start < n; start += ImageChunk)
        {
            var x = images.narrow(0, start, Math.Min(ImageChunk, n - start)).to(device).to(ScalarType.Float32).div_(255);
            if (flip) x = x.flip(3);
            var features = kind switch
            {
                FeatureSpaceKind.Pixels or FeatureSpaceKind.FlipInvariant => x.flatten(1),
                FeatureSpaceKind.Downsampled => torch.matmul(torch.matmul(rows!, x), columns!).flatten(1),
                FeatureSpaceKind.NormalizedCosine => UnitRows(x.flatten(1).sub(x.flatten(1).mean(1, keepdim: true))),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
            };
            parts.Add(features.contiguous());
        }
        var result = parts.Count == 0 ? torch.empty([0, Dimension(kind, images.shape, downsample)], device: device) : torch.cat(parts, 0);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Feature length of a space for images of shape [N, C, H, W].</summary>
    public static long Dimension(FeatureSpaceKind kind, long[] shape, int downsample) => kind switch
    {
        FeatureSpaceKind.Downsampled => shape[1] * Math.Min(downsample, shape[2]) * Math.Min(downsample, shape[3]),
        FeatureSpaceKind.External => throw new ArgumentException("external features have the files' width", nameof(kind)),
        _ => shape[1] * shape[2] * shape[3],
    };

    /// <summary>Rows scaled to unit L2 norm (all-zero rows stay zero).</summary>
    public static Tensor UnitRows(Tensor x) => x.div(x.norm([1], keepdim: true).clamp(min: 1e-12));

    /// <summary>
    /// The [out, size] matrix of exact area averaging from <paramref name="size"/> samples to <paramref name="output"/>
    /// cells (each output cell averages the input interval it covers, with fractional weights at the borders). An
    /// output at least as large as the input gives the identity.
    /// </summary>
    public static Tensor AreaMatrix(long size, int output, Device device)
    {
        if (output < 1) throw new ArgumentException($"downsample size {output}: expected at least 1", nameof(output));
        var cells = Math.Min(output, size);
        var weights = new float[cells * size];
        for (var o = 0; o < cells; o++)
        {
            var lo = (double)o * size / cells;
            var hi = (double)(o + 1) * size / cells;
            for (var i = (long)Math.Floor(lo); i < Math.Min(size, (long)Math.Ceiling(hi)); i++)
            {
                var overlap = Math.Min(hi, i + 1) - Math.Max(lo, i);
                if (overlap > 0) weights[o * size + i] = (float)(overlap / (hi - lo));
            }
        }
        return torch.tensor(weights, [cells, size], device);
    }
}
