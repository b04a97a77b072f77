using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>Tests that count process-wide native tensors and RSS: never run in parallel with other tests.</summary>
[CollectionDefinition(nameof(NativeMemoryCollection), DisableParallelization = true)]
public sealed class NativeMemoryCollection;

[Collection(nameof(NativeMemoryCollection))]
public sealed class MemoryTests(ITestOutputHelper output)
{
    private const int Steps = 2000;
    private const int WarmUpSteps = 200;
    private const long MaxRssGrowthBytes = 50L << 20;

    /// <summary>Conv2d(1, 8, 3, p=1) - GroupNorm(2, 8) - SiLU - Conv2d(8, 1, 3, p=1).</summary>
    private sealed class SmallConvNet : torch.nn.Module<Tensor, Tensor>
    {
        private readonly torch.nn.Conv2d _conv1;
        private readonly torch.nn.GroupNorm _norm;
        private readonly torch.nn.Conv2d _conv2;

        public SmallConvNet(ulong seed)
        {
            using var g = new Generator(seed);
            _conv1 = register_module("conv1", new torch.nn.Conv2d(1, 8, 3, padding: 1, generator: g));
            _norm = register_module("norm", new torch.nn.GroupNorm(2, 8));
            _conv2 = register_module("conv2", new torch.nn.Conv2d(8, 1, 3, padding: 1, generator: g));
        }

        public override Tensor forward(Tensor input) => _conv2.forward(_norm.forward(_conv1.forward(input)).silu());
    }

    private static long ResidentBytesAfterGc()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    [Fact]
    public void Training_steps_in_dispose_scopes_leak_neither_tensors_nor_memory()
    {
        // Ops this small gain nothing from intra-op threads, and on a shared 2-core machine OpenMP's thread
        // hand-offs made the 2000 steps take ~37 s instead of ~5 s. One thread for this test, restored after.
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            Train();
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    private void Train()
    {
        using var net = new SmallConvNet(11);
        using var flat = new torch.optim.FlatParameters(net.parameters());
        using var adam = new torch.optim.Adam(flat, lr: 1e-3);
        using var noise = new Generator(12);
        using var clean = torch.randn([8, 1, 16, 16], generator: noise).DetachFromDisposeScope();
        using var target = clean.flip(3).mul(0.5).DetachFromDisposeScope();

        float Step()
        {
            using var scope = torch.NewDisposeScope();
            adam.zero_grad();
            var input = clean + 0.1 * torch.randn_like(clean, noise); // fresh data every step, drawn inside the scope
            var loss = mse_loss(net.forward(input), target);
            loss.backward();
            flat.clip_grad_norm_(1.0);
            adam.step();
            return loss.item<float>();
        }

        var watch = Stopwatch.StartNew();
        var firstLoss = float.NaN;
        var lastLoss = float.NaN;
        long rssAfterWarmUp = 0;
        for (var step = 1; step <= Steps; step++)
        {
            var live = torch.live_tensors;
            lastLoss = Step();
            if (step == 1) firstLoss = lastLoss;
            var after = torch.live_tensors;
            if (after != live) Assert.Fail($"step {step}: {after - live} native tensors outlived the step's dispose scope");
            if (step == WarmUpSteps) rssAfterWarmUp = ResidentBytesAfterGc();
        }
        var rssGrowth = ResidentBytesAfterGc() - rssAfterWarmUp;
        watch.Stop();

        output.WriteLine($"{Steps} steps in {watch.Elapsed.TotalSeconds:F1} s; loss {firstLoss:F4} -> {lastLoss:F4}; " +
                         $"RSS {rssAfterWarmUp >> 20} MB after step {WarmUpSteps}, growth to step {Steps}: {rssGrowth / 1024.0 / 1024.0:F1} MB");
        Assert.True(rssGrowth < MaxRssGrowthBytes, $"RSS grew by {rssGrowth >> 20} MB between step {WarmUpSteps} and step {Steps}");
        Assert.True(lastLoss < firstLoss * 0.9f, $"the net did not train: loss {firstLoss} -> {lastLoss}");
        Assert.Equal(Steps, adam.StepCount);
    }

    [Fact]
    public void Failed_decode_encode_and_save_leave_no_tensor_behind()
    {
        using var image = torch.zeros([2, 2, 3]).DetachFromDisposeScope(); // float32: not encodable
        var path = Path.Combine(Path.GetTempPath(), $"ad-memory-{Guid.NewGuid():N}.safetensors");
        var before = torch.live_tensors;
        Assert.Throws<TorchException>(() => AmbientDiffusion.Torch.Imaging.ImageCodec.EncodePng(image));
        // Save copies "a" to a contiguous CPU tensor before it meets the invalid name.
        Assert.Throws<ArgumentException>(() => AmbientDiffusion.Torch.IO.SafeTensors.Save(path, [new("a", image), new("__metadata__", image)]));
        Assert.False(File.Exists(path));
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "rgb_4x3.png"));
        Assert.Throws<InvalidDataException>(() => AmbientDiffusion.Torch.Imaging.ImageCodec.Decode(bytes.AsSpan(0, 40), "cut"));
        Assert.Throws<InvalidDataException>(() => AmbientDiffusion.Torch.Imaging.ImageCodec.Decode(System.Text.Encoding.ASCII.GetBytes("text"), "text"));
        Assert.Equal(before, torch.live_tensors);
    }
}
