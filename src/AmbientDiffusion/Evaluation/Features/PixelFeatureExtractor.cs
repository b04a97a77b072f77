using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>Pixels in [0, 1], flattened (C·H·W features): the space needing no network, and the floor of every other.</summary>
/// <param name="device">Where the conversion runs; rows come back on the CPU.</param>
public sealed class PixelFeatureExtractor(Device device) : IFeatureExtractor
{
    /// <inheritdoc/>
    public string Name => "pixels";

    /// <inheritdoc/>
    public bool UnitNormalized => false;

    /// <inheritdoc/>
    public Tensor Extract(Tensor images, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
            throw new ArgumentException($"pixel features need uint8 [N, C, H, W] images, got {images.dtype} [{string.Join(", ", images.shape)}]", nameof(images));
        using var scope = torch.NewDisposeScope();
        var n = images.size(0);
        var parts = new List<Tensor> { torch.empty([0, images.size(1) * images.size(2) * images.size(3)]) };
        // In chunks, so that progress moves and a large set never needs a whole float copy on the device.
        for (long start = 0; start < n; start += FeatureSpaces.ImageChunk)
        {
            var count = Math.Min(FeatureSpaces.ImageChunk, n - start);
            parts.Add(FeatureSpaces.Compute(FeatureSpaceKind.Pixels, images.narrow(0, start, count), device).cpu());
            progress?.Report(start + count);
        }
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Nothing to release: the extractor holds no native state.</summary>
    public void Dispose()
    {
    }
}
