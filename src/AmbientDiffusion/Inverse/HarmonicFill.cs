using AmbientDiffusion.Torch;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// The classical inpainting baseline: removed pixels take the harmonic (discrete Laplace) interpolation of the observed
/// ones, by Jacobi iterations of the 4-neighbour average with mirrored borders; observed pixels stay as measured.
/// </summary>
public static class HarmonicFill
{
    /// <summary>Jacobi iterations: enough for 64×64 images to settle far below a grey level.</summary>
    public const int Iterations = 2000;

    /// <summary>Fills y [B, C, H, W] where <paramref name="masks"/> [B, 1, H, W] is 0.</summary>
    public static Tensor Fill(Tensor y, Tensor masks)
    {
        using var outer = torch.NewDisposeScope();
        var observed = masks.to(y.dtype).expand(y.shape);
        // Start from the mean of the observed pixels of each image: closer to the answer than 0.
        var count = observed.flatten(1).sum(1).clamp(min: 1);
        var start = ((y * observed).flatten(1).sum(1) / count).reshape(-1, 1, 1, 1);
        var x = y * observed + (1 - observed) * start;
        var (b, c, h, w) = (y.shape[0], y.shape[1], y.shape[2], y.shape[3]);
        var stencil = torch.tensor(new double[] { 0, 0.25, 0, 0.25, 0, 0.25, 0, 0.25, 0 }, [1, 1, 3, 3]).to(y.dtype);
        for (var i = 0; i < Iterations; i++)
        {
            using var scope = torch.NewDisposeScope();
            var planes = F.reflection_pad2d(x.reshape(b * c, 1, h, w), 1, 1, 1, 1);
            var average = F.conv2d(planes, stencil).reshape(b, c, h, w);
            x = scope.MoveToOuter(y * observed + (1 - observed) * average);
        }
        return outer.MoveToOuter(x);
    }
}
