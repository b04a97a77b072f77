using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>The counter-based dropout mask: its keep rate and scale, its independence between elements, and that it
/// depends only on the generator's state (not on the thread count, the tensor size drawn before, or the device form).</summary>
public class DropoutTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Keep_rate_and_scale_match_p(double p)
    {
        using var scope = torch.NewDisposeScope();
        const int n = 1_000_000;
        using var generator = new Generator(7);
        var output = F.dropout(torch.ones([n]), p, training: true, generator);
        var kept = output.ne(0);
        var keepRate = kept.to(ScalarType.Float64).mean().item<double>();
        var standardError = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange(keepRate, 1 - p - 4 * standardError, 1 - p + 4 * standardError);
        // Every kept element carries exactly the float 1/(1-p); the others are exactly 0.
        var expected = (float)(1.0 / (1.0 - p));
        Assert.True(Same(output, kept.to(ScalarType.Float32) * expected));
    }

    [Fact]
    public void Neighbouring_elements_are_independent()
    {
        using var scope = torch.NewDisposeScope();
        const int n = 1_000_000;
        const double p = 0.5;
        using var generator = new Generator(3);
        var kept = F.dropout(torch.ones([n]), p, training: true, generator).ne(0).to(ScalarType.Float64);
        // Pairs (i, i+1) and (i, i+64): both kept with probability q² when independent.
        foreach (var lag in new[] { 1, 64 })
        {
            var both = (kept.narrow(0, 0, n - lag) * kept.narrow(0, lag, n - lag)).mean().item<double>();
            var q2 = (1 - p) * (1 - p);
            Assert.InRange(both, q2 - 4 * Math.Sqrt(q2 * (1 - q2) / n), q2 + 4 * Math.Sqrt(q2 * (1 - q2) / n));
        }
    }

    [Fact]
    public void Mask_depends_only_on_the_generator_state()
    {
        using var scope = torch.NewDisposeScope();
        using var a = new Generator(11);
        using var b = new Generator(11);
        var input = torch.ones([4, 64, 32, 32]);
        // One call advances the generator by one draw whatever the tensor's size, so the next masks agree.
        F.dropout(torch.ones([10]), 0.3, training: true, a);
        F.dropout(torch.ones([500_000]), 0.3, training: true, b);
        var fromA = F.dropout(input, 0.3, training: true, a);
        var fromB = F.dropout(input, 0.3, training: true, b);
        Assert.True(Same(fromA, fromB));
        // The following call draws a new mask.
        Assert.False(Same(F.dropout(input, 0.3, training: true, a), fromA));
    }

    [Fact]
    public void Mask_is_the_same_for_every_thread_count()
    {
        using var scope = torch.NewDisposeScope();
        var threads = torch.get_num_threads();
        try
        {
            var input = torch.ones([300_000]);
            torch.set_num_threads(1);
            using var one = new Generator(5);
            var single = F.dropout(input, 0.2, training: true, one);
            torch.set_num_threads(Math.Max(2, Environment.ProcessorCount));
            using var many = new Generator(5);
            Assert.True(Same(F.dropout(input, 0.2, training: true, many), single));
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Theory]
    [InlineData(0x0123456789ABCDEFUL, 0.1)]
    [InlineData(0xFEDCBA9876543210UL, 0.5)] // a key with the top bit set: the signed tensor arithmetic must wrap alike
    [InlineData(0UL, 0.75)]
    public void Cpu_loop_equals_the_tensor_operation_form_used_on_other_devices(ulong key, double p)
    {
        using var scope = torch.NewDisposeScope();
        var loop = F.dropout_mask(100_003, p, key, tensorOps: false);
        var tensorOps = F.dropout_mask(100_003, p, key, tensorOps: true);
        Assert.True(Same(loop, tensorOps));
        Assert.InRange(loop.ne(0).to(ScalarType.Float64).mean().item<double>(), 1 - p - 0.01, 1 - p + 0.01);
    }

    [Fact]
    public void Extreme_probabilities_keep_or_drop_everything()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var input = torch.arange(1, 6, 1, ScalarType.Float32);
        Assert.True(Same(F.dropout(input, 0.0, training: true, generator), input));
        Assert.Equal(0.0, F.dropout(input, 1.0, training: true, generator).abs().sum().item<double>());
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.ne(b).sum().item<long>() == 0;
}
