using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>Pixels in [0, 1], flattened: the default feature space (computed on <paramref name="device"/>, returned on the CPU).</summary>
public sealed class PixelFeatureExtractor(Device device) : IFeatureExtractor
{
    /// <inheritdoc />
    public string Name => "pixels";

    /// <inheritdoc />
    public bool UnitNormalized => false;

    /// <inheritdoc />
    public Tensor Extract(Tensor images, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = torch.NewDisposeScope();
        var rows = FeatureSpaces.Compute(FeatureSpaceKind.Pixels, images, device).cpu();
        progress?.Report(images.size(0));
        return rows.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
