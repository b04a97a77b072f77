using AmbientDiffusion.Torch;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Per-image quality of reconstructions against clean references, both [B, C, H, W] in [-1, 1]: PSNR and SSIM on the
/// [0, 1] scale (data range 1), and the consistency error ‖A x̂ − y‖₂ against the measurement.
/// </summary>
public static class ReconstructionMetrics
{
    /// <summary>SSIM's window: an 11×11 Gaussian of σ = 1.5 (Wang et al. 2004), valid positions only.</summary>
    public const int SsimWindow = 11;

    /// <summary>σ of SSIM's Gaussian window.</summary>
    public const double SsimWindowSigma = 1.5;

    private const double K1 = 0.01, K2 = 0.03;

    /// <summary>PSNR in dB of each image: 10·log10(1 / MSE) on the [0, 1] scale (infinite for identical images).</summary>
    public static double[] Psnr(Tensor reconstruction, Tensor clean)
    {
        using var scope = torch.NewDisposeScope();
        var mse = ((reconstruction.to(ScalarType.Float64) - clean.to(ScalarType.Float64)) / 2).square().flatten(1).mean(1).data<double>();
        return mse.Select(m => m > 0 ? 10 * Math.Log10(1 / m) : double.PositiveInfinity).ToArray();
    }

    /// <summary>
    /// Mean SSIM of each image (averaged over channels and the valid window positions), with C1 = (0.01)², C2 = (0.03)²
    /// and population (biased) local variances, as <c>skimage.metrics.structural_similarity(gaussian_weights=True,
    /// sigma=1.5, use_sample_covariance=False, data_range=1)</c>. Images must be at least 11 pixels on each side.
    /// </summary>
    public static double[] Ssim(Tensor reconstruction, Tensor clean)
    {
        if (reconstruction.shape[2] < SsimWindow || reconstruction.shape[3] < SsimWindow)
            throw new ArgumentException($"SSIM needs images of at least {SsimWindow}x{SsimWindow} pixels, got {reconstruction.shape[2]}x{reconstruction.shape[3]}");
        using var scope = torch.NewDisposeScope();
        var (b, c) = (reconstruction.shape[0], reconstruction.shape[1]);
        var x = ((reconstruction.to(ScalarType.Float64) + 1) / 2).reshape(b * c, 1, reconstruction.shape[2], reconstruction.shape[3]);
        var y = ((clean.to(ScalarType.Float64) + 1) / 2).reshape(x.shape);
        var window = torch.tensor(BlurKernels.Gaussian(SsimWindow, SsimWindowSigma), [1, 1, SsimWindow, SsimWindow]);
        Tensor Filter(Tensor t) => F.conv2d(t, window);
        var (mx, my) = (Filter(x), Filter(y));
        var vx = Filter(x * x) - mx * mx;
        var vy = Filter(y * y) - my * my;
        var cxy = Filter(x * y) - mx * my;
        var (c1, c2) = (K1 * K1, K2 * K2);
        var map = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        return map.reshape(b, -1).mean(1).data<double>();
    }

    /// <summary>‖A x̂ − y‖₂ of each image.</summary>
    public static double[] Consistency(IForwardOperator op, Tensor reconstruction, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        return (op.Apply(reconstruction.to(ScalarType.Float64)) - y.to(ScalarType.Float64)).flatten(1).norm([1]).data<double>();
    }
}
