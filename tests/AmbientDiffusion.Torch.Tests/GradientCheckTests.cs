using Xunit.Sdk;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>
/// Finite-difference checks, in float64, of the gradients autograd computes through every differentiable operator
/// of the binding. Each case draws small inputs (away from kinks, ties and singularities where the operator has
/// them) and hands a function of them to <see cref="GradCheck"/>.
/// </summary>
public class GradientCheckTests
{
    // ---- the checker itself --------------------------------------------------------------------------

    [Fact]
    public void Checker_accepts_a_correct_gradient()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Empty(GradCheck.Mismatches(x => x[0] * x[0] * x[0], [new Samples(1).Randn(3, 4)]));
    }

    [Fact]
    public void Checker_rejects_a_wrong_gradient()
    {
        using var scope = torch.NewDisposeScope();
        // d/dx of x * detach(x) is reported as detach(x) by autograd, but the function's derivative is 2x.
        var mismatches = GradCheck.Mismatches(x => x[0] * x[0].detach(), [new Samples(2).Randn(3, 4)]);
        Assert.Equal(12, mismatches.Count);
    }

    [Fact]
    public void Checker_rejects_a_gradient_off_by_one_part_in_ten_thousand()
    {
        using var scope = torch.NewDisposeScope();
        var mismatches = GradCheck.Mismatches(x => x[0] + (x[0] * 1e-4).detach(), [new Samples(3).Randn(3, 4)]);
        Assert.Equal(12, mismatches.Count);
    }

    [Fact]
    public void Checker_rejects_a_gradient_that_misses_an_input()
    {
        using var scope = torch.NewDisposeScope();
        var mismatches = GradCheck.Mismatches(x => x[0] * x[1].detach(), [new Samples(4).Randn(2, 3), new Samples(5).Randn(2, 3)]);
        Assert.Equal(6, mismatches.Count);
        Assert.All(mismatches, m => Assert.StartsWith("input 1", m, StringComparison.Ordinal));
    }

    // ---- cases ---------------------------------------------------------------------------------------

    private static readonly Dictionary<string, Action<Samples>> UnaryCases = new(StringComparer.Ordinal)
    {
        ["neg"] = s => Check(x => x.neg(), s.Randn(3, 4)),
        ["operator -x"] = s => Check(x => -x, s.Randn(3, 4)),
        ["abs"] = s => Check(x => x.abs(), s.NonZero(0.1, 3, 4)),
        ["exp"] = s => Check(x => x.exp(), s.Randn(3, 4)),
        ["log"] = s => Check(x => x.log(), s.Uniform(0.5, 2, 3, 4)),
        ["sqrt"] = s => Check(x => x.sqrt(), s.Uniform(0.5, 2, 3, 4)),
        ["rsqrt"] = s => Check(x => x.rsqrt(), s.Uniform(0.5, 2, 3, 4)),
        ["sin"] = s => Check(x => x.sin(), s.Randn(3, 4)),
        ["cos"] = s => Check(x => x.cos(), s.Randn(3, 4)),
        ["tanh"] = s => Check(x => x.tanh(), s.Randn(3, 4)),
        ["sigmoid"] = s => Check(x => x.sigmoid(), s.Randn(3, 4)),
        ["silu"] = s => Check(x => x.silu(), s.Randn(3, 4)),
        ["relu"] = s => Check(x => x.relu(), s.NonZero(0.1, 3, 4)),
        ["gelu"] = s => Check(x => x.gelu(), s.Randn(3, 4)),
        ["square"] = s => Check(x => x.square(), s.Randn(3, 4)),
        ["reciprocal"] = s => Check(x => x.reciprocal(), s.NonZero(0.5, 3, 4)),
        ["log1p"] = s => Check(x => x.log1p(), s.Uniform(-0.5, 2, 3, 4)),
        ["expm1"] = s => Check(x => x.expm1(), s.Randn(3, 4)),
        ["erf"] = s => Check(x => x.erf(), s.Randn(3, 4)),
        // Piecewise-constant operators: zero gradient away from their jumps.
        ["sign"] = s => Check(x => x.sign(), s.NonZero(0.1, 3, 4)),
        ["floor"] = s => Check(x => x.floor(), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["ceil"] = s => Check(x => x.ceil(), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["round"] = s => Check(x => x.round(), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["trunc"] = s => Check(x => x.trunc(), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["functional.silu"] = s => Check(F.silu, s.Randn(3, 4)),
        ["functional.gelu"] = s => Check(F.gelu, s.Randn(3, 4)),
        ["functional.sigmoid"] = s => Check(F.sigmoid, s.Randn(3, 4)),
        ["functional.relu"] = s => Check(F.relu, s.NonZero(0.1, 3, 4)),
    };

    private static readonly Dictionary<string, Action<Samples>> BinaryCases = new(StringComparer.Ordinal)
    {
        ["add"] = s => Check((a, b) => a.add(b), s.Randn(2, 3), s.Randn(2, 3)),
        ["add broadcast"] = s => Check((a, b) => a + b, s.Randn(2, 3), s.Randn(3)),
        ["add alpha"] = s => Check((a, b) => a.add(b, 0.3), s.Randn(2, 3), s.Randn(2, 3)),
        ["sub"] = s => Check((a, b) => a.sub(b), s.Randn(2, 3), s.Randn(2, 1)),
        ["mul"] = s => Check((a, b) => a.mul(b), s.Randn(2, 3), s.Randn(2, 3)),
        ["div"] = s => Check((a, b) => a.div(b), s.Randn(2, 3), s.NonZero(0.5, 2, 3)),
        ["pow tensor"] = s => Check((a, b) => a.pow(b), s.Uniform(0.5, 2, 2, 3), s.Randn(2, 3)),
        ["maximum"] = s => { var (a, b) = s.DistinctPair(2, 3); Check((x, y) => x.maximum(y), a, b); },
        ["minimum"] = s => { var (a, b) = s.DistinctPair(2, 3); Check((x, y) => x.minimum(y), a, b); },
        ["atan2"] = s => Check((a, b) => a.atan2(b), s.Randn(2, 3), s.NonZero(0.5, 2, 3)),
        ["remainder tensor"] = s => Check((a, b) => a.remainder(b), s.AwayFromGrid(1.5, 0.1, 2, 3), torch.full([2, 3], 1.5, ScalarType.Float64)),
        ["operators a*b+a/b-a"] = s => Check((a, b) => a * b + a / b - a, s.Randn(2, 3), s.NonZero(0.5, 2, 3)),
        // scalar variants
        ["add scalar"] = s => Check(x => x.add(1.5), s.Randn(2, 3)),
        ["sub scalar"] = s => Check(x => x.sub(1.5), s.Randn(2, 3)),
        ["mul scalar"] = s => Check(x => x.mul(-2.5), s.Randn(2, 3)),
        ["div scalar"] = s => Check(x => x.div(4), s.Randn(2, 3)),
        ["pow scalar"] = s => Check(x => x.pow(2.5), s.Uniform(0.5, 2, 2, 3)),
        ["pow integer scalar"] = s => Check(x => x.pow(3), s.Randn(2, 3)),
        ["remainder scalar"] = s => Check(x => x.remainder(1.5), s.AwayFromGrid(1.5, 0.1, 2, 3)),
        ["operator x % s"] = s => Check(x => x % 1.5, s.AwayFromGrid(1.5, 0.1, 2, 3)),
        ["operator x + s"] = s => Check(x => x + 1.5, s.Randn(2, 3)),
        ["operator x - s"] = s => Check(x => x - 1.5, s.Randn(2, 3)),
        ["operator x * s"] = s => Check(x => x * 1.5, s.Randn(2, 3)),
        ["operator x / s"] = s => Check(x => x / 1.5, s.Randn(2, 3)),
        // reversed scalar operators
        ["operator s + x"] = s => Check(x => 1.5 + x, s.Randn(2, 3)),
        ["operator s - x"] = s => Check(x => 1.5 - x, s.Randn(2, 3)),
        ["operator s * x"] = s => Check(x => 1.5 * x, s.Randn(2, 3)),
        ["operator s / x"] = s => Check(x => 1.5 / x, s.NonZero(0.5, 2, 3)),
        // selection
        ["where"] = s =>
        {
            var condition = torch.tensor(new[] { true, false, true, false, false, true }, [2, 3]);
            Check((a, b) => torch.where(condition, a, b), s.Randn(2, 3), s.Randn(2, 3));
        },
        ["where broadcast"] = s =>
        {
            var condition = torch.tensor(new[] { true, false, true }, [3]);
            Check((a, b) => torch.where(condition, a, b), s.Randn(2, 3), s.Randn(1));
        },
        ["masked_fill"] = s =>
        {
            var mask = torch.tensor(new[] { true, false, false, false, true, false }, [2, 3]);
            Check(x => x.masked_fill(mask, 7), s.Randn(2, 3));
        },
        ["clamp both"] = s => Check(x => x.clamp(-0.5, 0.5), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["clamp min"] = s => Check(x => x.clamp(min: -0.5), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["clamp max"] = s => Check(x => x.clamp(max: 0.5), s.AwayFromGrid(0.5, 0.05, 3, 4)),
    };

    private static readonly Dictionary<string, Action<Samples>> ReductionCases = new(StringComparer.Ordinal)
    {
        ["sum"] = s => Check(x => x.sum(), s.Randn(2, 3, 4)),
        ["sum dims keepdim"] = s => Check(x => x.sum([0, 2], keepdim: true), s.Randn(2, 3, 4)),
        ["sum dim"] = s => Check(x => x.sum(-1), s.Randn(2, 3, 4)),
        ["mean"] = s => Check(x => x.mean(), s.Randn(2, 3, 4)),
        ["mean dims"] = s => Check(x => x.mean([1, 2]), s.Randn(2, 3, 4)),
        ["mean dim keepdim"] = s => Check(x => x.mean(1, keepdim: true), s.Randn(2, 3, 4)),
        ["max"] = s => Check(x => x.max(), s.Distinct(2, 3, 4)),
        ["min"] = s => Check(x => x.min(), s.Distinct(2, 3, 4)),
        ["amax"] = s => Check(x => x.amax([1]), s.Distinct(2, 3, 4)),
        ["amax dims keepdim"] = s => Check(x => x.amax([0, 2], keepdim: true), s.Distinct(2, 3, 4)),
        ["amin"] = s => Check(x => x.amin([2]), s.Distinct(2, 3, 4)),
        ["amin dims keepdim"] = s => Check(x => x.amin([0, 1], keepdim: true), s.Distinct(2, 3, 4)),
        ["prod"] = s => Check(x => x.prod(), s.Uniform(0.5, 1.5, 3, 4)),
        ["prod dim"] = s => Check(x => x.prod(1), s.Uniform(0.5, 1.5, 3, 4)),
        ["prod dim keepdim"] = s => Check(x => x.prod(0, keepdim: true), s.Uniform(0.5, 1.5, 3, 4)),
        ["var"] = s => Check(x => x.var(), s.Randn(3, 4)),
        ["var population"] = s => Check(x => x.var(unbiased: false), s.Randn(3, 4)),
        ["var dims keepdim"] = s => Check(x => x.var([1], keepdim: true), s.Randn(3, 4)),
        ["var dims population"] = s => Check(x => x.var([0, 2], unbiased: false), s.Randn(3, 4, 2)),
        ["std"] = s => Check(x => x.std(), s.Randn(3, 4)),
        ["std population"] = s => Check(x => x.std(unbiased: false), s.Randn(3, 4)),
        ["std dims keepdim"] = s => Check(x => x.std([0], keepdim: true), s.Randn(3, 4)),
        ["std dims population"] = s => Check(x => x.std([1], unbiased: false), s.Randn(3, 4)),
        ["logsumexp"] = s => Check(x => x.logsumexp([1]), s.Randn(3, 4)),
        ["logsumexp dims keepdim"] = s => Check(x => x.logsumexp([0, 1], keepdim: true), s.Randn(3, 4)),
        ["norm"] = s => Check(x => x.norm(), s.Randn(3, 4)),
        ["norm dims"] = s => Check(x => x.norm([1]), s.Randn(3, 4)),
        ["norm dims keepdim"] = s => Check(x => x.norm([0], keepdim: true), s.Randn(3, 4)),
        ["topk values"] = s => Check(x => x.topk(2, dim: -1).values, s.Distinct(3, 4)),
        ["topk smallest"] = s => Check(x => x.topk(2, dim: 0, largest: false).values, s.Distinct(3, 4)),
    };

    private static readonly Dictionary<string, Action<Samples>> ShapeCases = new(StringComparer.Ordinal)
    {
        ["view"] = s => Check(x => x.view(4, 6) * x.view(4, 6).flip(0), s.Randn(2, 3, 4)),
        ["view -1"] = s => Check(x => x.view(-1), s.Randn(2, 3, 4)),
        ["reshape"] = s => Check(x => x.reshape(6, 4), s.Randn(2, 3, 4)),
        ["reshape non-contiguous"] = s => Check(x => x.transpose(0, 2).reshape(-1, 3), s.Randn(2, 3, 4)),
        ["permute"] = s => Check(x => x.permute(2, 0, 1), s.Randn(2, 3, 4)),
        ["transpose"] = s => Check(x => x.transpose(0, -1), s.Randn(2, 3, 4)),
        ["flatten"] = s => Check(x => x.flatten(), s.Randn(2, 3, 4)),
        ["flatten range"] = s => Check(x => x.flatten(1, 2), s.Randn(2, 3, 4)),
        ["unsqueeze"] = s => Check(x => x.unsqueeze(1) * x.unsqueeze(0), s.Randn(2, 3)),
        ["squeeze dim"] = s => Check(x => x.squeeze(1), s.Randn(2, 1, 3)),
        ["squeeze all"] = s => Check(x => x.squeeze(), s.Randn(1, 2, 1, 3)),
        ["narrow"] = s => Check(x => x.narrow(1, 1, 2), s.Randn(2, 4, 3)),
        ["select"] = s => Check(x => x.select(1, 2), s.Randn(2, 4, 3)),
        ["indexer"] = s => Check(x => x[1], s.Randn(2, 4, 3)),
        ["index_select"] = s =>
        {
            var index = torch.tensor(new long[] { 2, 0, 2 });
            Check(x => x.index_select(1, index), s.Randn(2, 4));
        },
        ["gather"] = s =>
        {
            var index = torch.tensor(new long[] { 0, 3, 3, 1, 2, 2 }, [2, 3]);
            Check(x => x.gather(1, index), s.Randn(2, 4));
        },
        ["flip"] = s => Check(x => x.flip(0, 2), s.Randn(2, 3, 4)),
        ["expand"] = s => Check(x => x.expand(2, 3, 4), s.Randn(3, 1)),
        ["expand -1"] = s => Check(x => x.expand(4, -1), s.Randn(1, 3)),
        ["repeat"] = s => Check(x => x.repeat(2, 1, 3), s.Randn(2, 3)),
        ["cat"] = s => Check((a, b) => torch.cat([a, b, a], 1), s.Randn(2, 3), s.Randn(2, 2)),
        ["stack"] = s => Check((a, b) => torch.stack([a, b], 1), s.Randn(2, 3), s.Randn(2, 3)),
        ["chunk"] = s => Check(x =>
        {
            var parts = x.chunk(3, 1);
            Assert.Equal(3, parts.Length);
            return torch.cat([parts[0] * 2, parts[1] * parts[1], parts[2].exp()], 1);
        }, s.Randn(2, 7)),
        ["contiguous"] = s => Check(x => x.transpose(0, 1).contiguous(), s.Randn(2, 3)),
        ["clone"] = s => Check(x => x.clone(), s.Randn(2, 3)),
        ["alias"] = s => Check(x => x.alias() * x, s.Randn(2, 3)),
        ["to copy"] = s => Check(x => x.to(ScalarType.Float64, Device.CPU, copy: true), s.Randn(2, 3)),
        ["pad"] = s => Check(x => F.pad(x, [1, 2, 0, 1], 0.5), s.Randn(2, 3, 4)),
        ["pad negative"] = s => Check(x => F.pad(x, [-1, 1]), s.Randn(2, 3, 4)),
    };

    private static readonly Dictionary<string, Action<Samples>> NnCases = new(StringComparer.Ordinal)
    {
        ["matmul"] = s => Check(torch.matmul, s.Randn(3, 4), s.Randn(4, 2)),
        ["matmul batched broadcast"] = s => Check(torch.matmul, s.Randn(2, 3, 4), s.Randn(4, 2)),
        ["matmul vector"] = s => Check(torch.matmul, s.Randn(4), s.Randn(2, 4, 3)),
        ["bmm"] = s => Check(torch.bmm, s.Randn(2, 3, 4), s.Randn(2, 4, 2)),
        ["linear"] = s => CheckAll(t => F.linear(t[0], t[1], t[2]), s.Randn(3, 5), s.Randn(4, 5), s.Randn(4)),
        ["linear no bias 3-d"] = s => Check((x, w) => F.linear(x, w), s.Randn(2, 3, 5), s.Randn(4, 5)),
        ["conv2d"] = s => CheckAll(t => F.conv2d(t[0], t[1], t[2], padding: 1), s.Randn(1, 2, 5, 5), s.Randn(3, 2, 3, 3), s.Randn(3)),
        ["conv2d stride"] = s => CheckAll(t => F.conv2d(t[0], t[1], t[2], stride: 2), s.Randn(2, 2, 5, 5), s.Randn(3, 2, 3, 3), s.Randn(3)),
        ["conv2d groups"] = s => CheckAll(t => F.conv2d(t[0], t[1], t[2], padding: 1, groups: 2), s.Randn(1, 4, 4, 4), s.Randn(4, 2, 3, 3), s.Randn(4)),
        ["conv2d dilation"] = s => Check((x, w) => F.conv2d(x, w, dilation: 2, padding: 2), s.Randn(1, 2, 5, 5), s.Randn(2, 2, 3, 3)),
        ["conv2d per-axis"] = s => CheckAll(t => F.conv2d(t[0], t[1], t[2], (2, 1), (1, 0), (1, 2)), s.Randn(1, 2, 6, 6), s.Randn(2, 2, 3, 2), s.Randn(2)),
        ["conv_transpose2d"] = s => CheckAll(t => F.conv_transpose2d(t[0], t[1], t[2], stride: 2, padding: 1, outputPadding: 1),
                                             s.Randn(1, 3, 3, 3), s.Randn(3, 2, 3, 3), s.Randn(2)),
        ["conv_transpose2d groups"] = s => CheckAll(t => F.conv_transpose2d(t[0], t[1], t[2], groups: 2),
                                                    s.Randn(1, 4, 3, 3), s.Randn(4, 1, 2, 2), s.Randn(2)),
        ["conv_transpose2d dilation"] = s => Check((x, w) => F.conv_transpose2d(x, w, stride: 2, dilation: 2), s.Randn(1, 2, 3, 3), s.Randn(2, 2, 2, 2)),
        ["group_norm"] = s => CheckAll(t => F.group_norm(t[0], 2, t[1], t[2]), s.Randn(2, 4, 3, 3), s.Uniform(0.5, 1.5, 4), s.Randn(4)),
        ["group_norm no affine"] = s => Check(x => F.group_norm(x, 3, eps: 1e-6), s.Randn(2, 6, 2, 2)),
        ["layer_norm"] = s => CheckAll(t => F.layer_norm(t[0], [5], t[1], t[2]), s.Randn(2, 3, 5), s.Uniform(0.5, 1.5, 5), s.Randn(5)),
        ["layer_norm two dims"] = s => CheckAll(t => F.layer_norm(t[0], [3, 5], t[1], t[2]), s.Randn(2, 3, 5), s.Uniform(0.5, 1.5, 3, 5), s.Randn(3, 5)),
        ["layer_norm no affine"] = s => Check(x => F.layer_norm(x, [4]), s.Randn(3, 4)),
        ["softmax"] = s => Check(x => F.softmax(x, -1), s.Randn(3, 4)),
        ["softmax dim 0"] = s => Check(x => F.softmax(x, 0), s.Randn(3, 4)),
        ["log_softmax"] = s => Check(x => F.log_softmax(x, 1), s.Randn(3, 4)),
        ["log_softmax dim 0"] = s => Check(x => F.log_softmax(x, 0), s.Randn(3, 4)),
        ["dropout"] = s =>
        {
            static Tensor Dropout(Tensor x)
            {
                using var generator = new Generator(42); // a fresh generator per evaluation: the same mask every time
                return F.dropout(x, 0.4, training: true, generator);
            }
            var input = s.Randn(4, 5);
            var dropped = Dropout(input).eq(0).sum().item<long>();
            Assert.InRange(dropped, 1, 19); // the mask both drops and keeps elements
            Check(Dropout, input);
        },
        ["dropout eval"] = s => Check(x => F.dropout(x, 0.4, training: false), s.Randn(4, 5)),
        ["upsample_nearest2d"] = s => Check(x => F.upsample_nearest2d(x, 6, 4), s.Randn(1, 2, 3, 2)),
        ["upsample_nearest2d non-integer"] = s => Check(x => F.upsample_nearest2d(x, 5, 3), s.Randn(1, 2, 3, 2)),
        ["interpolate_nearest"] = s => Check(x => F.interpolate_nearest(x, 2), s.Randn(1, 2, 2, 3)),
        ["avg_pool2d"] = s => Check(x => F.avg_pool2d(x, 2), s.Randn(1, 2, 4, 4)),
        ["avg_pool2d stride padding"] = s => Check(x => F.avg_pool2d(x, 3, stride: 2, padding: 1), s.Randn(1, 2, 5, 5)),
        ["mse_loss mean"] = s => Check((a, b) => F.mse_loss(a, b), s.Randn(2, 3), s.Randn(2, 3)),
        ["mse_loss sum"] = s => Check((a, b) => F.mse_loss(a, b, Reduction.Sum), s.Randn(2, 3), s.Randn(2, 3)),
        ["mse_loss none"] = s => Check((a, b) => F.mse_loss(a, b, Reduction.None), s.Randn(2, 3), s.Randn(2, 3)),
        ["scaled_dot_product_attention"] = s => CheckAll(t => F.scaled_dot_product_attention(t[0], t[1], t[2]), s.Randn(2, 3, 4), s.Randn(2, 5, 4), s.Randn(2, 5, 2)),
    };

    // In-place operators on a copy of the input: autograd must see through them too.
    private static readonly Dictionary<string, Action<Samples>> InPlaceCases = new(StringComparer.Ordinal)
    {
        ["neg_"] = s => Check(x => x.clone().neg_(), s.Randn(2, 3)),
        ["abs_"] = s => Check(x => x.clone().abs_(), s.NonZero(0.1, 2, 3)),
        ["exp_"] = s => Check(x => x.clone().exp_(), s.Randn(2, 3)),
        ["log_"] = s => Check(x => x.clone().log_(), s.Uniform(0.5, 2, 2, 3)),
        ["sqrt_"] = s => Check(x => x.clone().sqrt_(), s.Uniform(0.5, 2, 2, 3)),
        ["rsqrt_"] = s => Check(x => x.clone().rsqrt_(), s.Uniform(0.5, 2, 2, 3)),
        ["tanh_"] = s => Check(x => x.clone().tanh_(), s.Randn(2, 3)),
        ["sigmoid_"] = s => Check(x => x.clone().sigmoid_(), s.Randn(2, 3)),
        ["silu_"] = s => Check(x => x.clone().silu_(), s.Randn(2, 3)),
        ["relu_"] = s => Check(x => x.clone().relu_(), s.NonZero(0.1, 2, 3)),
        ["square_"] = s => Check(x => x.clone().square_(), s.Randn(2, 3)),
        ["reciprocal_"] = s => Check(x => x.clone().reciprocal_(), s.NonZero(0.5, 2, 3)),
        ["floor_"] = s => Check(x => x.clone().floor_(), s.AwayFromGrid(0.5, 0.05, 2, 3)),
        ["ceil_"] = s => Check(x => x.clone().ceil_(), s.AwayFromGrid(0.5, 0.05, 2, 3)),
        ["round_"] = s => Check(x => x.clone().round_(), s.AwayFromGrid(0.5, 0.05, 2, 3)),
        ["trunc_"] = s => Check(x => x.clone().trunc_(), s.AwayFromGrid(0.5, 0.05, 2, 3)),
        ["add_"] = s => Check((a, b) => a.clone().add_(b), s.Randn(2, 3), s.Randn(3)),
        ["add_ alpha"] = s => Check((a, b) => a.clone().add_(b, -0.7), s.Randn(2, 3), s.Randn(2, 3)),
        ["add_ scalar"] = s => Check(x => x.clone().add_(2), s.Randn(2, 3)),
        ["sub_"] = s => Check((a, b) => a.clone().sub_(b), s.Randn(2, 3), s.Randn(2, 3)),
        ["sub_ scalar"] = s => Check(x => x.clone().sub_(2), s.Randn(2, 3)),
        ["mul_"] = s => Check((a, b) => a.clone().mul_(b), s.Randn(2, 3), s.Randn(2, 3)),
        ["mul_ scalar"] = s => Check(x => x.clone().mul_(-3), s.Randn(2, 3)),
        ["div_"] = s => Check((a, b) => a.clone().div_(b), s.Randn(2, 3), s.NonZero(0.5, 2, 3)),
        ["div_ scalar"] = s => Check(x => x.clone().div_(3), s.Randn(2, 3)),
        ["pow_ scalar"] = s => Check(x => x.clone().pow_(1.5), s.Uniform(0.5, 2, 2, 3)),
        ["addcmul_"] = s => CheckAll(t => t[0].clone().addcmul_(t[1], t[2], 0.5), s.Randn(2, 3), s.Randn(2, 3), s.Randn(2, 3)),
        ["addcdiv_"] = s => CheckAll(t => t[0].clone().addcdiv_(t[1], t[2], 0.5), s.Randn(2, 3), s.Randn(2, 3), s.NonZero(0.5, 2, 3)),
        ["lerp_"] = s => Check((a, b) => a.clone().lerp_(b, 0.3), s.Randn(2, 3), s.Randn(2, 3)),
        ["copy_"] = s => Check(x => torch.zeros([2, 3], ScalarType.Float64).copy_(x) * x, s.Randn(3)),
        ["clamp_"] = s => Check(x => x.clone().clamp_(-0.5, 0.5), s.AwayFromGrid(0.5, 0.05, 3, 4)),
        ["fill_"] = s => Check(x => x * x.clone().fill_(2), s.Randn(2, 3)),
        ["zero_"] = s => Check(x => x + x.clone().zero_(), s.Randn(2, 3)),
    };

    public static TheoryData<string> Unary => new(UnaryCases.Keys);
    public static TheoryData<string> Binary => new(BinaryCases.Keys);
    public static TheoryData<string> Reductions => new(ReductionCases.Keys);
    public static TheoryData<string> Shapes => new(ShapeCases.Keys);
    public static TheoryData<string> Nn => new(NnCases.Keys);
    public static TheoryData<string> InPlace => new(InPlaceCases.Keys);

    [Theory, MemberData(nameof(Unary))]
    public void Unary_op(string name) => Run(UnaryCases, name);

    [Theory, MemberData(nameof(Binary))]
    public void Binary_op(string name) => Run(BinaryCases, name);

    [Theory, MemberData(nameof(Reductions))]
    public void Reduction_op(string name) => Run(ReductionCases, name);

    [Theory, MemberData(nameof(Shapes))]
    public void Shape_op(string name) => Run(ShapeCases, name);

    [Theory, MemberData(nameof(Nn))]
    public void Nn_op(string name) => Run(NnCases, name);

    [Theory, MemberData(nameof(InPlace))]
    public void In_place_op(string name) => Run(InPlaceCases, name);

    private static void Run(Dictionary<string, Action<Samples>> cases, string name)
    {
        var baseline = torch.live_tensors;
        using (torch.NewDisposeScope()) cases[name](new Samples(name.Length * 7919 + name[0]));
        Assert.Equal(baseline, torch.live_tensors);
    }

    private static void Check(Func<Tensor, Tensor> f, Tensor x) => GradCheck.AssertGradients(t => f(t[0]), x);

    private static void Check(Func<Tensor, Tensor, Tensor> f, Tensor a, Tensor b) => GradCheck.AssertGradients(t => f(t[0], t[1]), a, b);

    private static void CheckAll(Func<Tensor[], Tensor> f, params Tensor[] inputs) => GradCheck.AssertGradients(f, inputs);
}

/// <summary>
/// Compares the gradients autograd computes for <c>sum(f(x) * w)</c> (w a fixed random tensor) with central differences
/// <c>(g(x + h e_j) - g(x - h e_j)) / 2h</c>, element by element, in float64.
/// </summary>
internal static class GradCheck
{
    /// <summary>Finite-difference step. Its truncation error (h^2 f''' / 6 ~ 1e-12) and rounding error
    /// (eps |g| / h ~ 1e-9 for |g| ~ 10) both lie well below the tolerances.</summary>
    public const double Step = 1e-6;

    /// <summary>Allowed |analytic - numeric|: AbsoluteTolerance + RelativeTolerance * |numeric|.</summary>
    public const double AbsoluteTolerance = 1e-6;

    /// <inheritdoc cref="AbsoluteTolerance"/>
    public const double RelativeTolerance = 1e-6;

    public static void AssertGradients(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var mismatches = Mismatches(f, inputs);
        if (mismatches.Count > 0)
            throw new XunitException($"{mismatches.Count} gradient element(s) disagree with central differences:\n" + string.Join("\n", mismatches.Take(10)));
    }

    /// <summary>One line per gradient element that disagrees with its central difference.</summary>
    public static List<string> Mismatches(Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var input in inputs) Assert.Equal(ScalarType.Float64, input.dtype);
        var values = inputs.Select(t => t.data<double>()).ToArray();
        var shapes = inputs.Select(t => t.shape).ToArray();

        // Analytic: backward of sum(f(x) * w).
        var leaves = Leaves(values, shapes, requiresGrad: true);
        var output = f(leaves);
        Assert.Equal(ScalarType.Float64, output.dtype);
        var weights = new Samples(987654321).Randn(output.shape);
        (output * weights).sum().backward();
        var analytic = leaves.Select(l => l.grad?.data<double>() ?? new double[l.numel()]).ToArray();

        double Objective()
        {
            using var evaluation = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            return (f(Leaves(values, shapes, requiresGrad: false)) * weights).sum().item<double>();
        }

        var mismatches = new List<string>();
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(values[i].Length, analytic[i].Length);
            for (var j = 0; j < values[i].Length; j++)
            {
                var original = values[i][j];
                values[i][j] = original + Step;
                var plus = Objective();
                values[i][j] = original - Step;
                var minus = Objective();
                values[i][j] = original;
                var numeric = (plus - minus) / (2 * Step);
                var error = Math.Abs(analytic[i][j] - numeric);
                if (!(error <= AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric)))
                    mismatches.Add($"input {i} element {j} (x = {original:G6}): analytic {analytic[i][j]:G10}, numeric {numeric:G10}, |diff| {error:E2}");
            }
        }
        return mismatches;
    }

    private static Tensor[] Leaves(double[][] values, long[][] shapes, bool requiresGrad)
    {
        var leaves = new Tensor[values.Length];
        for (var i = 0; i < leaves.Length; i++)
        {
            leaves[i] = torch.tensor(values[i], shapes[i]);
            if (requiresGrad) leaves[i].requires_grad = true;
        }
        return leaves;
    }
}

/// <summary>Reproducible float64 test inputs (managed random numbers, so independent of libtorch's generators).</summary>
internal sealed class Samples(int seed)
{
    private readonly Random _random = new(seed);

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    private Tensor Make(long[] shape, Func<double> sample)
    {
        var data = new double[Count(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = sample();
        return torch.tensor(data, shape);
    }

    private double Normal() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private double UniformValue(double low, double high) => low + (high - low) * _random.NextDouble();

    /// <summary>Standard normal values.</summary>
    public Tensor Randn(params long[] shape) => Make(shape, Normal);

    /// <summary>Uniform values on [low, high).</summary>
    public Tensor Uniform(double low, double high, params long[] shape) => Make(shape, () => UniformValue(low, high));

    /// <summary>Values with |x| in [min, 2] and a random sign.</summary>
    public Tensor NonZero(double min, params long[] shape) => Make(shape, () => UniformValue(min, 2) * (_random.Next(2) == 0 ? -1 : 1));

    /// <summary>Normal values at least <paramref name="margin"/> away from every multiple of <paramref name="step"/>.</summary>
    public Tensor AwayFromGrid(double step, double margin, params long[] shape) => Make(shape, () =>
    {
        while (true)
        {
            var x = 1.5 * Normal();
            var distance = Math.Abs(x - step * Math.Round(x / step));
            if (distance >= margin) return x;
        }
    });

    /// <summary>Values pairwise at least 0.2 apart (no ties for max, min and top-k), in random order.</summary>
    public Tensor Distinct(params long[] shape)
    {
        var n = (int)Count(shape);
        var data = Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.3 + 0.1 * _random.NextDouble()).ToArray();
        _random.Shuffle(data);
        return torch.tensor(data, shape);
    }

    /// <summary>Two tensors whose elements differ by at least 0.1 everywhere.</summary>
    public (Tensor a, Tensor b) DistinctPair(params long[] shape)
    {
        var a = Randn(shape);
        return (a, a + NonZero(0.1, shape));
    }
}
