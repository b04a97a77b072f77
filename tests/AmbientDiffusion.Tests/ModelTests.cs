using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;

namespace AmbientDiffusion.Tests;

public class ModelTests
{
    private static DdpmUNet Build(UNetOptions options, ulong seed = 0)
    {
        using var init = new Generator(seed);
        return new DdpmUNet(options, init, new Generator(seed + 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CelebA64_paper_configuration_has_the_papers_size(bool gated)
    {
        using var net = Build(new UNetOptions(64, 3, 1, 128, [1, 2, 2, 2], 4, [16], 0.1, gated));
        var count = net.parameter_count();
        Console.WriteLine($"CelebA-64 DDPM++ {(gated ? "gated" : "ungated")}: {count} parameters");
        if (gated) Assert.InRange(count, 112_000_000, 124_000_000);
        else Assert.InRange(count, 59_000_000, 65_000_000);
    }
}
