using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>CPU bf16 autocast: which ops change dtype, that gradients stay float32, and that the guard restores the state.</summary>
public class AutocastTests
{
    [Fact]
    public void Cpu_autocast_runs_convolutions_and_matmuls_in_bfloat16_and_restores_float32()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([4, 4], generator: new Generator(1));
        var x = torch.randn([1, 2, 5, 5], generator: new Generator(2));
        var w = torch.randn([3, 2, 3, 3], generator: new Generator(3));
        using (torch.autocast(DeviceType.CPU))
        {
            Assert.Equal(ScalarType.BFloat16, torch.matmul(a, a).dtype);
            Assert.Equal(ScalarType.BFloat16, F.conv2d(x, w, padding: 1).dtype);
            Assert.Equal(ScalarType.Float32, (a + a).dtype); // pointwise ops keep their inputs' dtype
        }
        Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
        Assert.Equal(ScalarType.Float32, F.conv2d(x, w, padding: 1).dtype);
    }

    [Fact]
    public void Nested_guards_restore_the_outer_state()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([3, 3]);
        using (torch.autocast(DeviceType.CPU))
        {
            using (torch.autocast(DeviceType.CPU))
                Assert.Equal(ScalarType.BFloat16, torch.matmul(a, a).dtype);
            Assert.Equal(ScalarType.BFloat16, torch.matmul(a, a).dtype);
        }
        Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
    }

    [Fact]
    public void Gradients_of_float32_parameters_stay_float32_and_match_float32_within_bf16_precision()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([2, 4, 8, 8], generator: new Generator(4));
        var w = torch.randn([4, 4, 3, 3], generator: new Generator(5)).mul_(0.2).requires_grad_();
        Tensor Grad(bool bf16)
        {
            using (bf16 ? torch.autocast(DeviceType.CPU) : (IDisposable?)null)
            {
                var loss = F.conv2d(x, w, padding: 1).to(ScalarType.Float32).pow(2).sum();
                loss.backward();
            }
            var g = w.grad!.clone();
            w.grad!.zero_();
            return g;
        }
        var exact = Grad(false);
        var low = Grad(true);
        Assert.Equal(ScalarType.Float32, low.dtype);
        // bf16 keeps 8 significant bits: a relative error of a few 1e-3 per product, well under 5e-2 after summation.
        var relative = (low - exact).norm().item<double>() / exact.norm().item<double>();
        Assert.InRange(relative, 1e-6, 5e-2);
    }

    [Fact]
    public void Unsupported_dtypes_are_refused_with_the_reason()
    {
        var error = Assert.Throws<TorchException>(() => torch.autocast(DeviceType.CPU, ScalarType.Float16));
        Assert.Contains("CPU autocast dtype must be bfloat16", error.Message);
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([2, 2]);
        Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
    }
}
