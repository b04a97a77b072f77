using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>FlopCounterMode counts 2 FLOPs per multiply-add of convolutions, linear layers and matrix products.</summary>
public class FlopCounterTests
{
    [Fact]
    public void Counts_each_operator_by_its_multiply_adds()
    {
        using var scope = torch.NewDisposeScope();
        using var counter = new FlopCounterMode();
        // 3x3 convolution, 4 -> 6 channels, 5x7 output, batch 2, groups 2: each output sums 2·3·3 products.
        F.conv2d(torch.ones([2, 4, 5, 7]), torch.ones([6, 2, 3, 3]), padding: 1, groups: 2);
        Assert.Equal(2L * (2 * 6 * 5 * 7) * (2 * 3 * 3), counter.get_total_flops());
        var before = counter.get_total_flops();
        torch.matmul(torch.ones([3, 2, 4]), torch.ones([4, 5]));          // broadcast: 3·2·5 outputs of 4 products
        Assert.Equal(2L * 3 * 2 * 5 * 4, counter.get_total_flops() - before);
        before = counter.get_total_flops();
        torch.bmm(torch.ones([2, 3, 4]), torch.ones([2, 4, 6]));
        Assert.Equal(2L * 2 * 3 * 6 * 4, counter.get_total_flops() - before);
        before = counter.get_total_flops();
        F.linear(torch.ones([5, 8]), torch.ones([3, 8]), torch.ones([3]));
        Assert.Equal(2L * 5 * 3 * 8, counter.get_total_flops() - before);
        before = counter.get_total_flops();
        // Transposed 2x2 convolution, stride 2, 4 -> 2 channels on 3x3: each input feeds 2·2·2 outputs.
        F.conv_transpose2d(torch.ones([1, 4, 3, 3]), torch.ones([4, 2, 2, 2]), stride: 2);
        Assert.Equal(2L * (4 * 3 * 3) * (2 * 2 * 2), counter.get_total_flops() - before);
        before = counter.get_total_flops();
        _ = (torch.ones([10, 10]) * 2).exp(); // elementwise: not counted
        Assert.Equal(before, counter.get_total_flops());
    }

    [Fact]
    public void Nested_counters_both_count_and_nothing_counts_outside()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.ones([2, 3]);
        var b = torch.ones([3, 4]);
        torch.matmul(a, b); // no counter active
        using var outer = new FlopCounterMode();
        using (var inner = new FlopCounterMode())
        {
            torch.matmul(a, b);
            Assert.Equal(48L, inner.get_total_flops());
        }
        torch.matmul(a, b);
        Assert.Equal(96L, outer.get_total_flops());
    }
}
