namespace AmbientDiffusion.Torch.Tests;

public class TensorBasicsTests
{
    [Fact]
    public void Runtime_reports_versions_and_threads()
    {
        Assert.Equal(4, torch.abi_version); // 4: the image exports left the shim for SkiaSharp
        Assert.Matches(@"^\d+\.\d+", torch.version);
        Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
    }

    [Fact]
    public void Arithmetic_matches_managed_computation()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var b = torch.tensor(new float[] { 0.5f, -1, 2 }, [3]);
        var c = (a * b + 1) / 2 - a;
        Assert.Equal(new long[] { 2, 3 }, c.shape);
        var expected = new float[6];
        float[] av = [1, 2, 3, 4, 5, 6];
        float[] bv = [0.5f, -1, 2];
        for (var i = 0; i < 6; i++) expected[i] = (av[i] * bv[i % 3] + 1) / 2 - av[i];
        Assert.Equal(expected, c.data<float>());
        Assert.Equal(expected.Sum(), c.sum().item<float>(), 5);
        Assert.Equal(new float[] { 1 - 1f, 1 - 4f }, (1 - a.select(1, 0)).data<float>());
        Assert.Equal(new float[] { 2f / 1, 2f / 4 }, (2 / a.select(1, 0)).data<float>());
    }

    [Fact]
    public void Scope_frees_everything_it_owns()
    {
        var baseline = torch.live_tensors;
        Tensor kept;
        using (var scope = torch.NewDisposeScope())
        {
            var x = torch.randn([4, 4]);
            var y = x.matmul_via_torch();
            kept = scope.MoveToOuter(y.sum());
            Assert.True(torch.live_tensors > baseline + 1);
        }
        Assert.Equal(baseline + 1, torch.live_tensors);
        kept.Dispose();
        Assert.Equal(baseline, torch.live_tensors);
    }
}

internal static class TensorTestExtensions
{
    public static Tensor matmul_via_torch(this Tensor x) => torch.matmul(x, x.transpose(0, 1));
}

public class TensorScalarTests
{
    [Fact]
    public void Int64_items_are_exact_beyond_two_to_the_53()
    {
        using var scope = torch.NewDisposeScope();
        const long big = (1L << 60) + 1;
        Assert.Equal(big, torch.tensor(new[] { big }).sum().item<long>());
    }

    [Fact]
    public void Long_lived_scopes_do_not_accumulate_disposed_tensors()
    {
        using var scope = torch.NewDisposeScope();
        for (var i = 0; i < 10000; i++) torch.zeros([1]).Dispose();
        Assert.Equal(0, scope.Count);
        Assert.True(scope.TrackedCount <= 1024, $"the scope still tracks {scope.TrackedCount} disposed tensors");
        var kept = torch.ones([1]);
        Assert.Equal(1, scope.Count);
        Assert.Equal(1f, kept.item<float>());
    }
}
