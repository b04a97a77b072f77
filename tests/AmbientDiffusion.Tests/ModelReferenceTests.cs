using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>The U-Net and EDM preconditioning against the PyTorch implementation in bench/pytorch/ambient
/// (Fixtures/make_unet_reference.py): same parameter names and shapes, same outputs for the same weights.</summary>
public class ModelReferenceTests(Xunit.Abstractions.ITestOutputHelper output_)
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "unet_reference.safetensors");

    /// <summary>The fixture's network in eval mode, after checking that its parameters have the reference's names, order
    /// and shapes. The PyTorch reference preconditions every pixel alike (ambient-spec §2, the official code).</summary>
    private static EdmPreconditioner ReferenceDenoiser(SafeTensorsFile file, string prefix, bool gated)
    {
        using var init = new Generator(0);
        using var dropout = new Generator(1);
        var denoiser = new EdmPreconditioner(new DdpmUNet(new UNetOptions(16, 1, 1, 8, [1, 2], 1, [8], 0, gated), init, dropout), perPixelHidden: false);
        var reference = file.Keys.Where(k => k.StartsWith(prefix + "model.", StringComparison.Ordinal)).ToList();
        Assert.Equal(reference.Select(k => k[prefix.Length..]), denoiser.named_parameters().Select(p => p.name));
        denoiser.load_state_dict(reference.ToDictionary(k => k[prefix.Length..], k => file.GetTensor(k)));
        denoiser.eval();
        return denoiser;
    }

    [Theory]
    [InlineData("ungated", false)]
    [InlineData("gated", true)]
    public void Denoiser_matches_the_pytorch_reference(string variant, bool gated)
    {
        using var file = SafeTensors.Open(Fixture);
        using var scope = torch.NewDisposeScope();
        var prefix = variant + "/";
        using var denoiser = ReferenceDenoiser(file, prefix, gated);
        using var noGrad = torch.no_grad();
        var output = denoiser.forward(file.GetTensor(prefix + "x"), file.GetTensor(prefix + "sigma"), file.GetTensor(prefix + "mask"));
        var expected = file.GetTensor(prefix + "out");
        var relative = ((output - expected).norm() / expected.norm()).item<double>();
        Assert.True(relative < 1e-5, $"relative error {relative:E2}");
    }

    [Theory]
    [InlineData("ungated", false)]
    [InlineData("gated", true)]
    public void Denoiser_under_cpu_bf16_autocast_matches_the_reference_within_bf16_precision(string variant, bool gated)
    {
        // Convolutions and matrix products run in bf16 (8 significant bits), group norms in their input's dtype, and
        // the attention softmax and the preconditioning in float32: the result must stay close to the float32 one.
        using var file = SafeTensors.Open(Fixture);
        using var scope = torch.NewDisposeScope();
        var prefix = variant + "/";
        using var denoiser = ReferenceDenoiser(file, prefix, gated);
        using var noGrad = torch.no_grad();
        Tensor output;
        using (torch.autocast(DeviceType.CPU))
            output = denoiser.forward(file.GetTensor(prefix + "x"), file.GetTensor(prefix + "sigma"), file.GetTensor(prefix + "mask"));
        Assert.Equal(ScalarType.Float32, output.dtype);
        var expected = file.GetTensor(prefix + "out");
        var relative = ((output - expected).norm() / expected.norm()).item<double>();
        output_.WriteLine($"{variant}: relative error under bf16 autocast {relative:E2}");
        Assert.InRange(relative, 1e-5, 2e-2); // above float32 agreement (it did run in bf16), within bf16's precision
    }

    [Fact]
    public void Hidden_pixels_are_preconditioned_as_pure_noise()
    {
        // Same network and input: at visible pixels both forms agree; at hidden ones the per-pixel form returns σ_d·F,
        // where the uniform one returns c_skip·x + c_out·F.
        using var file = SafeTensors.Open(Fixture);
        using var scope = torch.NewDisposeScope();
        using var init = new Generator(0);
        using var dropout = new Generator(1);
        var network = new DdpmUNet(new UNetOptions(16, 1, 1, 8, [1, 2], 1, [8], 0, false), init, dropout);
        using var uniform = new EdmPreconditioner(network, perPixelHidden: false);
        var perPixel = new EdmPreconditioner(network);
        uniform.eval();
        using var noGrad = torch.no_grad();
        var (x, sigma, mask) = (file.GetTensor("ungated/x"), file.GetTensor("ungated/sigma"), file.GetTensor("ungated/mask"));
        Assert.True(mask.eq(0).any().item<bool>() && mask.eq(1).any().item<bool>());
        var a = uniform.forward(x, sigma, mask);
        var b = perPixel.forward(x, sigma, mask);
        var s = sigma.reshape(-1, 1, 1, 1);
        var variance = s.square() + 0.25;
        var f = (a - 0.25 / variance * x) / (s * 0.5 * variance.rsqrt());
        var expected = torch.where(mask.expand(x.shape).eq(1), a, f * 0.5);
        Assert.True((b - expected).abs().max().item<float>() < 1e-4f);
        var weight = perPixel.LossWeight(s, mask, x);
        Assert.True(torch.where(mask.expand(x.shape).eq(1), weight - perPixel.LossWeight(s).expand(x.shape), weight - 4).abs().max().item<float>() < 1e-3f);
    }
}
