using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>The U-Net and EDM preconditioning against the PyTorch implementation in bench/pytorch/ambient
/// (Fixtures/make_unet_reference.py): same parameter names and shapes, same outputs for the same weights.</summary>
public class ModelReferenceTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "unet_reference.safetensors");

    [Theory]
    [InlineData("ungated", false)]
    [InlineData("gated", true)]
    public void Denoiser_matches_the_pytorch_reference(string variant, bool gated)
    {
        using var file = SafeTensors.Open(Fixture);
        using var scope = torch.NewDisposeScope();
        using var init = new Generator(0);
        using var dropout = new Generator(1);
        using var denoiser = new EdmPreconditioner(new DdpmUNet(new UNetOptions(16, 1, 1, 8, [1, 2], 1, [8], 0, gated), init, dropout));
        var prefix = variant + "/";
        var reference = file.Keys.Where(k => k.StartsWith(prefix + "model.", StringComparison.Ordinal)).ToList();
        // Same parameters, in the same order, with the same shapes.
        Assert.Equal(reference.Select(k => k[prefix.Length..]), denoiser.named_parameters().Select(p => p.name));
        denoiser.load_state_dict(reference.ToDictionary(k => k[prefix.Length..], k => file.GetTensor(k)));
        denoiser.eval();
        using var noGrad = torch.no_grad();
        var output = denoiser.forward(file.GetTensor(prefix + "x"), file.GetTensor(prefix + "sigma"), file.GetTensor(prefix + "mask"));
        var expected = file.GetTensor(prefix + "out");
        var relative = ((output - expected).norm() / expected.norm()).item<double>();
        Assert.True(relative < 1e-5, $"relative error {relative:E2}");
    }
}
