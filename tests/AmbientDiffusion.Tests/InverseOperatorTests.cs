using AmbientDiffusion.Inverse;

namespace AmbientDiffusion.Tests;

/// <summary>The forward operators: adjoints, kernels, exact inversion, the spec's text form.</summary>
public class InverseOperatorTests
{
    private static readonly ImageShape Rgb8 = new(3, 8, 8);

    public static TheoryData<string> LinearOperators() =>
    [
        "pixel(p=0.6)", "box(p=0.3)", "patch(k=2, p=0.5)", "pool(k=2)", "pool(k=4)",
        "gaussian_blur(size=5, sigma=1.5)", "motion_blur(size=5, intensity=0.7)", "cs(m=40)",
    ];

    private static IForwardOperator Make(string text, ImageShape shape, long count, ulong seed = 3)
    {
        var spec = OperatorSpec.Parse(text);
        var indices = Enumerable.Range(0, (int)count).Select(i => (long)i).ToList();
        return ForwardOperators.Create(spec, shape, ForwardOperators.Draw(spec, shape, seed, indices));
    }

    [Theory]
    [MemberData(nameof(LinearOperators))]
    public void Adjoint_identity_holds_in_float64(string text)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(7);
        var op = Make(text, Rgb8, 4);
        var x = torch.randn([4, 3, 8, 8], ScalarType.Float64, Device.CPU, generator);
        var y = torch.randn([4, .. op.MeasurementShape], ScalarType.Float64, Device.CPU, generator);
        var left = (op.Apply(x) * y).sum().item<double>();
        var right = (x * op.Adjoint(y)).sum().item<double>();
        Assert.True(Math.Abs(left - right) < 1e-10 * (1 + Math.Abs(left)), $"{text}: <Ax, y> = {left}, <x, A^T y> = {right}");
        Assert.Equal([4, .. op.MeasurementShape], op.Apply(x).shape);
    }

    [Fact]
    public void Blur_kernels_sum_to_one_and_motion_kernels_depend_on_the_seed_only()
    {
        Assert.Equal(1.0, BlurKernels.Gaussian(9, 2.0).Sum(), 12);
        var a = BlurKernels.Motion(9, 0.5, Common.RandomStreams.For(Common.RandomStream.MeasurementOperator, 1, 0));
        var b = BlurKernels.Motion(9, 0.5, Common.RandomStreams.For(Common.RandomStream.MeasurementOperator, 1, 0));
        var c = BlurKernels.Motion(9, 0.5, Common.RandomStreams.For(Common.RandomStream.MeasurementOperator, 1, 1));
        Assert.Equal(1.0, a.Sum(), 12);
        Assert.Equal(1.0, c.Sum(), 12);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.Count(v => v > 0) > 3, "a motion kernel spreads over several taps");
    }

    [Fact]
    public void Compressed_sensing_with_m_equal_n_and_no_noise_is_exactly_invertible()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        var shape = new ImageShape(1, 6, 6);
        var op = Make("cs(m=36)", shape, 3);
        var x = torch.rand([3, 1, 6, 6], ScalarType.Float64, Device.CPU, generator) * 2 - 1;
        var error = (op.PseudoInverse(op.Apply(x)) - x).abs().max().item<double>();
        Assert.True(error < 1e-8, $"max |A+ A x - x| = {error}");
    }

    [Fact]
    public void Pseudo_inverses_reproduce_the_measurement()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(4);
        var x = torch.rand([2, 3, 8, 8], ScalarType.Float64, Device.CPU, generator) * 2 - 1;
        foreach (var text in new[] { "pixel(p=0.5)", "pool(k=4)", "cs(m=50)" })
        {
            var op = Make(text, Rgb8, 2);
            var y = op.Apply(x);
            var error = (op.Apply(op.PseudoInverse(y)) - y).abs().max().item<double>();
            Assert.True(error < 1e-8, $"{text}: max |A A+ y - y| = {error}");
        }
        var blur = Make("gaussian_blur(size=5, sigma=1)", Rgb8, 2);
        var yb = blur.Apply(x);
        Assert.True((blur.Apply(blur.PseudoInverse(yb)) - yb).norm().item<double>() < 0.2 * yb.norm().item<double>());
    }

    [Fact]
    public void Masks_and_noise_depend_on_seed_and_index_only()
    {
        using var scope = torch.NewDisposeScope();
        var spec = OperatorSpec.Parse("pixel(p=0.5) + noise(sigma=0.1)");
        var all = ForwardOperators.Draw(spec, Rgb8, 5, [0, 1, 2, 3]).PerImage!;
        var one = ForwardOperators.Draw(spec, Rgb8, 5, [2]).PerImage!;
        Assert.True(all.narrow(0, 2, 1).eq(one).all().item<bool>());
        Assert.False(all[0].eq(all[1]).all().item<bool>());
        var noise = ForwardOperators.Noise(spec, [3, 8, 8], 5, [0, 1]);
        var again = ForwardOperators.Noise(spec, [3, 8, 8], 5, [1]);
        Assert.True(noise.narrow(0, 1, 1).eq(again).all().item<bool>());
        Assert.InRange(noise.std().item<double>(), 0.08, 0.12);
    }

    [Theory]
    [InlineData("pixel(p=0.6)")]
    [InlineData("patch(k=4, p=0.5) + noise(sigma=0.05)")]
    [InlineData("pool(k=4)")]
    [InlineData("gaussian_blur(size=9, sigma=2)")]
    [InlineData("motion_blur(size=7, intensity=0.25)")]
    [InlineData("cs(m=100) + noise(sigma=0.01)")]
    public void Spec_text_round_trips(string text)
    {
        var spec = OperatorSpec.Parse(text);
        Assert.Equal(text, spec.Describe());
        Assert.Equal(spec, OperatorSpec.Parse(spec.Describe()));
    }

    [Theory]
    [InlineData("blur(size=3)", "unknown operator 'blur'")]
    [InlineData("pixel(q=0.5)", "unknown key(s) q")]
    [InlineData("pixel(p=1.5)", "p = 1.5")]
    [InlineData("gaussian_blur(size=4, sigma=1)", "kernel_size = 4")]
    [InlineData("noise(sigma=0.1)", "noise(sigma=...) may only follow")]
    [InlineData("pixel(p=0.5) + pool(k=2)", "noise(sigma=...) may only follow")]
    public void Bad_spec_text_is_a_clear_error(string text, string message)
    {
        var error = Record.Exception(() => OperatorSpec.Parse(text));
        Assert.True(error is FormatException or ArgumentException, $"{text}: {error?.GetType().Name}");
        Assert.Contains(message, error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Geometry_that_does_not_fit_is_a_clear_error()
    {
        var pool = OperatorSpec.Parse("pool(k=8)");
        var error = Assert.Throws<Common.SettingException>(() => ForwardOperators.Draw(pool, new ImageShape(1, 28, 28), 0, [0]));
        Assert.Contains("divisor of the image size 28x28", error.Message, StringComparison.Ordinal);
        Assert.Throws<Common.SettingException>(() => ForwardOperators.Draw(OperatorSpec.Parse("cs(m=1000)"), new ImageShape(1, 28, 28), 0, [0]));
    }
}
