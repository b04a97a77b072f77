using System.Runtime.InteropServices;
using AmbientDiffusion.Torch.IO;
using static AmbientDiffusion.Torch.torch.nn.functional;
using Adam = AmbientDiffusion.Torch.torch.optim.Adam;
using EMA = AmbientDiffusion.Torch.torch.optim.ExponentialMovingAverage;
using FlatParameters = AmbientDiffusion.Torch.torch.optim.FlatParameters;
using Parameter = AmbientDiffusion.Torch.torch.nn.Parameter;
using Xunit.Abstractions;

namespace AmbientDiffusion.Torch.Tests;

public sealed class OptimizerTests(ITestOutputHelper output)
{
    /// <summary>Conv2d -> SiLU -> flatten -> Linear -> SiLU -> Linear: three kinds of parameter shapes.</summary>
    private sealed class Net : torch.nn.Module<Tensor, Tensor>
    {
        private readonly torch.nn.Conv2d _conv;
        private readonly torch.nn.Linear _fc1;
        private readonly torch.nn.Linear _fc2;

        public Net(ulong seed)
        {
            using var g = new Generator(seed);
            _conv = register_module("conv", new torch.nn.Conv2d(2, 3, 3, padding: 1, generator: g));
            _fc1 = register_module("fc1", new torch.nn.Linear(3 * 5 * 5, 16, generator: g));
            _fc2 = register_module("fc2", new torch.nn.Linear(16, 4, generator: g));
        }

        public override Tensor forward(Tensor input) => _fc2.forward(_fc1.forward(_conv.forward(input).silu().flatten(1)).silu());
    }

    /// <summary>A second network with the first one's weights, copied through the state dict.</summary>
    private static Net CopyOf(Net source)
    {
        var copy = new Net(999);
        copy.load_state_dict(source.state_dict());
        return copy;
    }

    /// <summary>Backpropagates the loss on a batch that depends only on <paramref name="step"/>; returns the loss.</summary>
    private static float Backward(Net net, int step)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1000 + (ulong)step);
        var x = torch.randn([4, 2, 5, 5], generator: g);
        var target = torch.randn([4, 4], generator: g);
        var loss = mse_loss(net.forward(x), target);
        loss.backward();
        return loss.item<float>();
    }

    private static float MaxAbsDifference(Net a, Net b)
    {
        using var scope = torch.NewDisposeScope();
        var pairs = a.parameters().Zip(b.parameters());
        return pairs.Max(p => (p.First - p.Second).abs().max().item<float>());
    }

    /// <summary>PyTorch 1.13's single-tensor Adam, one parameter at a time, in double precision on managed arrays.</summary>
    private sealed class ReferenceAdam(IReadOnlyList<Parameter> parameters, double lr, double weightDecay, bool decoupled)
    {
        private const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;
        private readonly double[][] _m = parameters.Select(p => new double[p.numel()]).ToArray();
        private readonly double[][] _v = parameters.Select(p => new double[p.numel()]).ToArray();
        private int _t;

        public void Step()
        {
            _t++;
            var bc1 = 1 - Math.Pow(Beta1, _t);
            var bc2 = 1 - Math.Pow(Beta2, _t);
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            for (var k = 0; k < parameters.Count; k++)
            {
                var p = parameters[k];
                var w = p.data<float>();
                var g = p.grad!.data<float>();
                var (m, v) = (_m[k], _v[k]);
                for (var i = 0; i < w.Length; i++)
                {
                    double wi = w[i], gi = g[i];
                    if (weightDecay != 0)
                    {
                        if (decoupled) wi *= 1 - lr * weightDecay;
                        else gi += weightDecay * wi;
                    }
                    m[i] = Beta1 * m[i] + (1 - Beta1) * gi;
                    v[i] = Beta2 * v[i] + (1 - Beta2) * gi * gi;
                    wi -= lr / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + Eps);
                    w[i] = (float)wi;
                }
                p.copy_(torch.tensor(w, p.shape));
            }
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adam_l2")]
    [InlineData("adamw")]
    public void Flat_adam_equals_a_per_tensor_reference_over_10_steps(string variant)
    {
        const double lr = 1e-2;
        var (weightDecay, decoupled) = variant switch { "adam" => (0.0, false), "adam_l2" => (0.1, false), _ => (0.1, true) };
        using var flatNet = new Net(1);
        using var refNet = CopyOf(flatNet);
        Assert.Equal(0, MaxAbsDifference(flatNet, refNet));
        var initial = flatNet.parameters().Select(p => p.data<float>()).ToList();

        using var flat = new FlatParameters(flatNet.parameters());
        using var adam = new Adam(flat, lr, weightDecay: weightDecay, decoupledWeightDecay: decoupled);
        var reference = new ReferenceAdam(refNet.parameters().ToList(), lr, weightDecay, decoupled);
        var worst = 0f;
        for (var step = 0; step < 10; step++)
        {
            adam.zero_grad();
            var flatLoss = Backward(flatNet, step);
            adam.step();

            refNet.zero_grad();
            var refLoss = Backward(refNet, step);
            reference.Step();

            Assert.Equal(refLoss, flatLoss, 1e-5f);
            worst = Math.Max(worst, MaxAbsDifference(flatNet, refNet));
            Assert.True(worst < 1e-6f, $"step {step + 1}: max |flat - reference| = {worst}");
        }
        Assert.Equal(10, adam.StepCount);
        output.WriteLine($"{variant}: max |flat - reference| over 10 steps = {worst:E2}");
        // The weights really moved (10 steps of ~lr each), so the comparison is not between two idle models.
        var moved = flatNet.parameters().Zip(initial).Max(p => p.First.data<float>().Zip(p.Second).Max(w => Math.Abs(w.First - w.Second)));
        Assert.True(moved > 0.05f, $"weights moved by at most {moved}");
    }

    [Fact]
    public void AdamW_factory_sets_decoupled_weight_decay()
    {
        using var net = new Net(2);
        using var flat = new FlatParameters(net.parameters());
        using var adamw = Adam.AdamW(flat, lr: 3e-4);
        Assert.True(adamw.DecoupledWeightDecay);
        Assert.Equal(0.01, adamw.WeightDecay);
        Assert.Equal(3e-4, adamw.lr);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(flat, beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(flat, eps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(flat, lr: -1));
    }

    [Fact]
    public void Backward_accumulates_into_the_flat_gradient_buffer_across_zero_grad_and_steps()
    {
        using var net = new Net(3);
        using var flat = new FlatParameters(net.parameters());
        using var adam = new Adam(flat, lr: 1e-2);
        var parameters = flat.Parameters;
        Assert.Equal(net.parameter_count(), flat.data.numel());
        Assert.Equal(flat.data.numel(), flat.grad.numel());

        for (var step = 0; step < 4; step++)
        {
            using var scope = torch.NewDisposeScope();
            adam.zero_grad();
            Assert.Equal(0, flat.grad.abs().sum().item<float>());
            Backward(net, step);
            Assert.True(flat.grad.abs().sum().item<float>() > 0);

            using var plain = CopyOf(net); // same weights, ordinary (non-flat) parameters and gradients
            Backward(plain, step);
            var plainParameters = plain.parameters().ToList();
            for (var i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                var n = p.numel();
                var grad = p.grad!;
                // Still views of the flat buffers: same addresses, so nothing was re-allocated by autograd.
                Assert.Equal(flat.data.data_ptr() + (nint)(flat.Offsets[i] * 4), p.data_ptr());
                Assert.Equal(flat.grad.data_ptr() + (nint)(flat.Offsets[i] * 4), grad.data_ptr());
                var slice = flat.grad.narrow(0, flat.Offsets[i], n);
                Assert.Equal(grad.flatten().data<float>(), slice.data<float>());
                Assert.True((slice - plainParameters[i].grad!.flatten()).abs().max().item<float>() < 1e-6f, $"parameter {i}");
            }

            // A second backward without zero_grad adds to the same buffer.
            var once = flat.grad.clone();
            Backward(net, step);
            Assert.True((flat.grad - once * 2).abs().max().item<float>() < 1e-6f);
            adam.step();
            // The step wrote through the views: the module sees the flat buffer's values.
            Assert.Equal(flat.data.narrow(0, flat.Offsets[0], parameters[0].numel()).data<float>(), parameters[0].flatten().data<float>());
        }
    }

    [Fact]
    public void Flat_clip_grad_norm_equals_the_per_tensor_one()
    {
        using var flatNet = new Net(4);
        using var plainNet = CopyOf(flatNet);
        using var flat = new FlatParameters(flatNet.parameters());
        using var scope = torch.NewDisposeScope();
        Backward(flatNet, 0);
        Backward(plainNet, 0);
        var norm = flat.grad_norm().item<double>();
        Assert.True(norm > 0);

        var maxNorm = norm / 4;
        var flatNorm = flat.clip_grad_norm_(maxNorm);
        var plainNorm = torch.nn.utils.clip_grad_norm_(plainNet.parameters(), maxNorm);
        Assert.Equal(norm, flatNorm, norm * 1e-6);
        Assert.Equal(plainNorm, flatNorm, norm * 1e-5);
        var clipped = flat.grad.norm().item<double>();
        Assert.True(clipped <= maxNorm, $"norm after clipping {clipped} > {maxNorm}");
        Assert.Equal(maxNorm, clipped, maxNorm * 1e-5);
        foreach (var (a, b) in flatNet.parameters().Zip(plainNet.parameters()))
            Assert.True((a.grad! - b.grad!).abs().max().item<float>() < 1e-6f);

        // Below the limit nothing changes, bit for bit.
        var before = flat.grad.data<float>();
        var again = flat.clip_grad_norm_(maxNorm * 10);
        Assert.Equal(clipped, again, clipped * 1e-6);
        Assert.Equal(before, flat.grad.data<float>());
        var plainBefore = plainNet.parameters().Select(p => p.grad!.data<float>()).ToList();
        torch.nn.utils.clip_grad_norm_(plainNet.parameters(), maxNorm * 10);
        Assert.Equal(plainBefore, plainNet.parameters().Select(p => p.grad!.data<float>()).ToList());
    }

    [Fact]
    public void Ema_update_is_beta_shadow_plus_one_minus_beta_weights()
    {
        using var net = new Net(5);
        using var flat = new FlatParameters(net.parameters());
        using var ema = new EMA(flat);
        using var scope = torch.NewDisposeScope();
        Assert.Equal(flat.data.data<float>(), ema.shadow.data<float>());
        using var g = new Generator(6);
        foreach (var beta in new[] { 0.9, 0.999, 0.5, 0.0, 1.0 })
        {
            using (torch.no_grad()) flat.data.add_(torch.randn(flat.data.shape, generator: g));
            var shadow = ema.shadow.data<float>();
            var weights = flat.data.data<float>();
            ema.update(beta);
            var updated = ema.shadow.data<float>();
            for (var i = 0; i < updated.Length; i++)
                Assert.True(Math.Abs(updated[i] - (beta * shadow[i] + (1 - beta) * weights[i])) < 1e-6, $"beta {beta}, element {i}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.update(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.update(-0.1));

        // swap exchanges live and averaged weights; a second swap restores both.
        var (live, averaged) = (flat.data.data<float>(), ema.shadow.data<float>());
        ema.swap();
        Assert.Equal(averaged, flat.data.data<float>());
        Assert.Equal(live, ema.shadow.data<float>());
        Assert.Equal(averaged, net.parameters().SelectMany(p => p.flatten().data<float>()).ToArray());
        ema.swap();
        Assert.Equal(live, flat.data.data<float>());
        Assert.Equal(averaged, ema.shadow.data<float>());
    }

    [Fact]
    public void Beta_for_half_life_halves_the_old_weights_after_one_half_life()
    {
        Assert.Equal(0.5, EMA.BetaForHalfLife(imagesPerStep: 64, halfLifeImages: 64), 15);
        var beta = EMA.BetaForHalfLife(imagesPerStep: 8, halfLifeImages: 10_000);
        Assert.Equal(0.5, Math.Pow(beta, 10_000 / 8.0), 12);
        Assert.Equal(0.0, EMA.BetaForHalfLife(8, 0));

        // Run it: shadow starts at 1, the weights are 0; after 80 images at 8 per step the shadow is 0.5.
        using var layer = new torch.nn.Linear(3, 2);
        using var flat = new FlatParameters(layer.parameters());
        using (torch.no_grad()) flat.data.fill_(1);
        using var ema = new EMA(flat);
        using (torch.no_grad()) flat.data.zero_();
        var stepBeta = EMA.BetaForHalfLife(8, 80);
        for (var i = 0; i < 10; i++) ema.update(stepBeta);
        using var scope = torch.NewDisposeScope();
        Assert.All(ema.shadow.data<float>(), v => Assert.Equal(0.5f, v, 1e-6f));
    }

    private static void TrainSteps(Net net, FlatParameters flat, Adam adam, int from, int to)
    {
        for (var step = from; step < to; step++)
        {
            adam.zero_grad();
            Backward(net, step);
            flat.clip_grad_norm_(1.0);
            adam.step();
        }
    }

    private static int[] Bits(Tensor t) => MemoryMarshal.Cast<float, int>(t.data<float>()).ToArray();

    [Fact]
    public void Optimizer_state_saved_and_restored_continues_bitwise_identically()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ad-optim-{Guid.NewGuid():N}");
        var checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        try
        {
            int[] uninterruptedWeights, uninterruptedExpAvgSq;
            using (var net = new Net(7))
            using (var flat = new FlatParameters(net.parameters()))
            using (var adam = Adam.AdamW(flat, lr: 1e-2, weightDecay: 0.05))
            {
                TrainSteps(net, flat, adam, 0, 5);
                SafeTensors.Save(checkpoint,
                    new Dictionary<string, Tensor> { ["params"] = flat.data, ["exp_avg"] = adam.exp_avg, ["exp_avg_sq"] = adam.exp_avg_sq },
                    new Dictionary<string, string> { ["step"] = adam.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                TrainSteps(net, flat, adam, 5, 10);
                Assert.Equal(10, adam.StepCount);
                uninterruptedWeights = Bits(flat.data);
                uninterruptedExpAvgSq = Bits(adam.exp_avg_sq);
            }

            // A fresh process would do this: other initial weights, then everything from the checkpoint.
            using var resumedNet = new Net(8);
            using var resumedFlat = new FlatParameters(resumedNet.parameters());
            using var resumed = Adam.AdamW(resumedFlat, lr: 1e-2, weightDecay: 0.05);
            using (var file = SafeTensors.Open(checkpoint))
            using (var scope = torch.NewDisposeScope())
            {
                using (torch.no_grad()) resumedFlat.data.copy_(file.GetTensor("params"));
                resumed.load_state(file.GetTensor("exp_avg"), file.GetTensor("exp_avg_sq"), long.Parse(file.Metadata["step"], System.Globalization.CultureInfo.InvariantCulture));
            }
            Assert.Equal(5, resumed.StepCount);
            TrainSteps(resumedNet, resumedFlat, resumed, 5, 10);
            Assert.Equal(10, resumed.StepCount);
            Assert.Equal(uninterruptedWeights, Bits(resumedFlat.data));
            Assert.Equal(uninterruptedExpAvgSq, Bits(resumed.exp_avg_sq));

            using var wrong = torch.zeros([3]);
            Assert.Throws<ArgumentException>(() => resumed.load_state(wrong, wrong, 1));
            Assert.Throws<ArgumentOutOfRangeException>(() => resumed.load_state(resumed.exp_avg, resumed.exp_avg_sq, -1));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Generator_state_round_trip_reproduces_the_random_stream()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(42);
        var first = torch.randn([5], generator: g).data<float>(); // odd sizes use the cached second normal sample
        var state = g.get_state();
        Assert.Equal(ScalarType.Byte, state.dtype);
        var stateBytes = state.data<byte>();

        Tensor[] Draw(Generator gen) =>
        [
            torch.randn([7], generator: gen), torch.rand([33], generator: gen), torch.randint(0, 1000, [9], generator: gen),
            torch.randn([40], ScalarType.Float64, generator: gen), torch.empty([6]).normal_(2, 3, gen), torch.empty([5]).uniform_(-1, 1, gen),
            torch.empty([17]).bernoulli_(0.3, gen),
        ];
        string Fingerprint(Tensor[] ts) => string.Join("|", ts.Select(t => Convert.ToHexString(RawBytes(t))));

        var expected = Fingerprint(Draw(g));
        Assert.Equal(stateBytes, state.data<byte>()); // get_state returned a copy, not a live view
        g.set_state(state);
        Assert.Equal(expected, Fingerprint(Draw(g)));

        using var other = new Generator(7);
        other.set_state(state);
        Assert.Equal(expected, Fingerprint(Draw(other)));

        g.manual_seed(42);
        Assert.Equal(first, torch.randn([5], generator: g).data<float>());
        using var seeded43 = new Generator(43);
        Assert.NotEqual(expected, Fingerprint(Draw(seeded43)));
        Assert.Throws<TorchException>(() => g.set_state(torch.zeros([3], ScalarType.Byte)));
    }

    private static byte[] RawBytes(Tensor t)
    {
        var bytes = new byte[t.numel() * t.element_size()];
        t.CopyBytesTo(bytes);
        return bytes;
    }
}
