using System.Text.Json;
using AmbientDiffusion.Inverse;

namespace AmbientDiffusion.Tests;

/// <summary>PSNR and SSIM against SciPy (Fixtures/metrics/make_reconstruction_metrics.py) and the baselines' basics.</summary>
public class InverseMetricsTests
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private sealed record Case(int Channels, int Size, int[] Reconstruction, int[] Clean, double Psnr, double Ssim);

    private static Tensor Images(int[] values, int channels, int size) =>
        torch.tensor(values.Select(v => v / 127.5 - 1).ToArray(), [1, channels, size, size]);

    [Fact]
    public void Psnr_and_ssim_equal_scipy_within_1e_9()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics", "reconstruction_metrics.json");
        var cases = JsonSerializer.Deserialize<Case[]>(File.ReadAllText(path), SnakeCase)!;
        Assert.Equal(3, cases.Length);
        using var scope = torch.NewDisposeScope();
        foreach (var c in cases)
        {
            var (x, y) = (Images(c.Reconstruction, c.Channels, c.Size), Images(c.Clean, c.Channels, c.Size));
            Assert.Equal(c.Psnr, ReconstructionMetrics.Psnr(x, y)[0], 9);
            Assert.Equal(c.Ssim, ReconstructionMetrics.Ssim(x, y)[0], 9);
            Assert.Equal(1.0, ReconstructionMetrics.Ssim(y, y)[0], 12);
            Assert.True(double.IsPositiveInfinity(ReconstructionMetrics.Psnr(y, y)[0]));
        }
    }

    [Fact]
    public void Harmonic_fill_keeps_observed_pixels_and_reproduces_a_linear_ramp()
    {
        using var scope = torch.NewDisposeScope();
        // A horizontal ramp is harmonic, so filling any hole with fixed observed columns at both ends recovers it.
        var ramp = torch.arange(0, 16, 1, ScalarType.Float64).reshape(1, 1, 1, 16).expand(1, 1, 16, 16) / 7.5 - 1;
        var spec = OperatorSpec.Parse("box(p=0.3)");
        var shape = new ImageShape(1, 16, 16);
        var op = (MaskOperator)ForwardOperators.Create(spec, shape, ForwardOperators.Draw(spec, shape, 2, [0]));
        var filled = HarmonicFill.Fill(op.Apply(ramp), op.Masks);
        Assert.True((filled - ramp).abs().max().item<double>() < 1e-3);
        Assert.True(((filled - ramp) * op.Masks).abs().max().item<double>() == 0);
    }
}
