namespace AmbientDiffusion.Torch.Tests;

/// <summary>Runs only where libtorch has CUDA and a GPU; elsewhere the test is skipped with the reason shown.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!torch.cuda.is_available())
            Skip = $"no CUDA device: libtorch {torch.version} reports CUDA unavailable (build with TORCH_DIR pointing at a CUDA libtorch on a GPU machine)";
    }
}

public class CudaTests
{
    [CudaFact]
    public void Tensors_round_trip_through_the_gpu()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn([3, 5], generator: new Generator(1));
        var gpu = x.to(Device.CUDA());
        Assert.Equal(DeviceType.CUDA, gpu.device.Type);
        Assert.Equal(x.data<float>(), gpu.cpu().data<float>());
    }

    [CudaFact]
    public void Convolution_and_gradients_agree_with_the_cpu()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(2);
        var x = torch.randn([2, 3, 8, 8], generator: generator);
        var w = torch.randn([4, 3, 3, 3], generator: generator);
        Tensor Run(Device device)
        {
            var input = x.to(device).requires_grad_();
            var output = torch.nn.functional.conv2d(input, w.to(device), padding: 1);
            output.square().sum().backward();
            return torch.cat([output.flatten().cpu(), input.grad!.flatten().cpu()]);
        }
        // TF32 would change the last bits; compare in full float32.
        torch.cuda.allow_tf32(false);
        var (cpu, gpu) = (Run(Device.CPU), Run(Device.CUDA()));
        Assert.True((cpu - gpu).abs().max().item<double>() < 1e-4 * Math.Max(1, cpu.abs().max().item<double>()));
    }

    [CudaFact]
    public void Bf16_autocast_runs_matmuls_in_bfloat16()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([4, 4], device: Device.CUDA());
        using (torch.cuda.autocast(ScalarType.BFloat16))
            Assert.Equal(ScalarType.BFloat16, torch.matmul(a, a).dtype);
        Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
    }

    [Fact]
    public void Autocast_guard_leaves_cpu_computation_in_float32_and_restores_state()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([4, 4]);
        using (torch.cuda.autocast(ScalarType.BFloat16))
            Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
        Assert.Throws<TorchException>(() => torch.cuda.autocast(ScalarType.Float64));
        Assert.Equal(ScalarType.Float32, torch.matmul(a, a).dtype);
    }
}
