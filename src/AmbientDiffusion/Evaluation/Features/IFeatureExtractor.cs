using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>
/// Turns uint8 images into feature rows: the one seam through which every quality metric and every feature-space
/// memorization analysis sees images (pixels, the in-product classifier, TorchScript networks).
/// </summary>
public interface IFeatureExtractor : IDisposable
{
    /// <summary>Short name used in reports and metrics.json (e.g. <c>pixels</c>, <c>classifier</c>, <c>inception</c>).</summary>
    string Name { get; }

    /// <summary>Whether rows come out scaled to unit L2 norm, so that neighbours are compared by cosine similarity.</summary>
    bool UnitNormalized { get; }

    /// <summary>
    /// Features of uint8 [N, C, H, W] <paramref name="images"/> (any device) as float32 [N, D] on the CPU, computed in
    /// batches; <paramref name="progress"/> receives the number of images done so far. The result belongs to the caller's
    /// dispose scope.
    /// </summary>
    Tensor Extract(Tensor images, IProgress<long>? progress = null);
}
