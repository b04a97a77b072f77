namespace AmbientDiffusion.Torch.Tests;

/// <summary>The counter-based normal and uniform draws used for tensors on GPUs, computed here by the same tensor
/// operations on the CPU: their distribution, their dependence on the generator only, and (on a GPU) that the
/// device draws equal them.</summary>
public class CounterRandomTests
{
    private const int N = 1_000_000;

    [Fact]
    public void Normal_draws_have_the_standard_normals_moments_and_quantiles()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(17);
        var z = torch.random_counter(true, N, 0, 1, generator).to(ScalarType.Float64);
        var mean = z.mean().item<double>();
        var variance = (z - mean).square().mean().item<double>();
        Assert.InRange(mean, -4 / Math.Sqrt(N), 4 / Math.Sqrt(N));
        Assert.InRange(variance, 1 - 4 * Math.Sqrt(2.0 / N), 1 + 4 * Math.Sqrt(2.0 / N));
        // Tail and centre fractions against Φ, within 4 binomial standard errors.
        foreach (var (threshold, expected) in new[] { (-1.959964, 0.025), (0.0, 0.5), (1.0, 0.841345), (3.0, 0.998650) })
        {
            var fraction = z.lt(threshold).to(ScalarType.Float64).mean().item<double>();
            var se = Math.Sqrt(expected * (1 - expected) / N);
            Assert.InRange(fraction, expected - 4 * se, expected + 4 * se);
        }
        Assert.True(z.abs().max().item<double>() <= 6.67); // Box-Muller with 32-bit uniforms: |z| <= sqrt(2 ln 2^32)
    }

    [Fact]
    public void Uniform_draws_cover_the_interval_evenly_and_scale()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var u = torch.random_counter(false, N, 0, 1, generator).to(ScalarType.Float64);
        Assert.True(u.min().item<double>() >= 0 && u.max().item<double>() < 1);
        Assert.InRange(u.mean().item<double>(), 0.5 - 4 * Math.Sqrt(1.0 / 12 / N), 0.5 + 4 * Math.Sqrt(1.0 / 12 / N));
        foreach (var q in new[] { 0.1, 0.25, 0.9 })
            Assert.InRange(u.lt(q).to(ScalarType.Float64).mean().item<double>(), q - 4 * Math.Sqrt(q * (1 - q) / N), q + 4 * Math.Sqrt(q * (1 - q) / N));
        var scaled = torch.random_counter(false, 1000, -3, 5, generator);
        Assert.True(scaled.min().item<double>() >= -3 && scaled.max().item<double>() < 5);
        var normal = torch.random_counter(true, N, 2, 0.5, generator).to(ScalarType.Float64);
        Assert.InRange(normal.mean().item<double>(), 2 - 0.002, 2 + 0.002);
    }

    [Fact]
    public void Draws_depend_only_on_the_generator_state_which_advances_one_step_per_draw()
    {
        using var scope = torch.NewDisposeScope();
        using var a = new Generator(9);
        using var b = new Generator(9);
        torch.random_counter(true, 3, 0, 1, a);
        torch.random_counter(false, 100_000, 0, 1, b);
        var fromA = torch.random_counter(true, 1000, 0, 1, a);
        Assert.Equal(fromA.data<float>(), torch.random_counter(true, 1000, 0, 1, b).data<float>());
        Assert.NotEqual(fromA.data<float>(), torch.random_counter(true, 1000, 0, 1, a).data<float>());
        // A prefix of a longer draw with the same key is the shorter draw.
        using var c = new Generator(9);
        using var d = new Generator(9);
        Assert.Equal(torch.random_counter(true, 10, 0, 1, c).data<float>(), torch.random_counter(true, 50, 0, 1, d).data<float>().Take(10));
    }

    [CudaFact]
    public void Cuda_draws_are_the_counter_draws_computed_on_the_device()
    {
        using var scope = torch.NewDisposeScope();
        using var onDevice = new Generator(21);
        using var reference = new Generator(21);
        var gpu = torch.randn([4, 1000], device: Device.CUDA(), generator: onDevice).cpu().flatten();
        var cpu = torch.random_counter(true, 4000, 0, 1, reference);
        Assert.True((gpu - cpu).abs().max().item<double>() < 1e-5);
        var uniform = torch.rand([500], device: Device.CUDA(), generator: onDevice).cpu();
        Assert.True((uniform - torch.random_counter(false, 500, 0, 1, reference)).abs().max().item<double>() < 1e-6);
    }
}
