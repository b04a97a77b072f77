using System.Text.Json;
using AmbientDiffusion.Torch.IO;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>
/// Forward and backward of the bound operators against PyTorch 1.13 (Fixtures/reference_ops.safetensors, written by
/// Fixtures/make_reference_ops.py). Each case stores its inputs, <c>out</c>, an upstream gradient <c>gout</c> and the
/// gradients <c>grad_&lt;input&gt;</c> of <c>(out * gout).sum()</c>; its hyper-parameters are JSON in the file's
/// metadata. Every hyper-parameter must be consumed (or matched against what the binding implements), so a case
/// the binding cannot express fails instead of being silently approximated.
/// </summary>
public class ReferenceOpsTests
{
    private const double Tolerance = 1e-5;

    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "reference_ops.safetensors");

    private static readonly string[] CaseNames =
    [
        "conv2d_basic", "conv2d_stride2", "conv2d_groups", "conv_transpose2d", "group_norm", "layer_norm", "linear",
        "attention", "softmax", "silu", "gelu", "sigmoid", "avg_pool2d", "upsample_nearest2d", "mse", "matmul",
    ];

    public static TheoryData<string> Cases => new(CaseNames);

    [Fact]
    public void Every_case_of_the_fixture_is_tested()
    {
        using var file = SafeTensors.Open(FixturePath);
        var inMetadata = file.Metadata.Keys.Where(k => k != "generator").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(CaseNames.Order(StringComparer.Ordinal), inMetadata);
        var prefixes = file.Keys.Select(k => k[..k.IndexOf('.', StringComparison.Ordinal)]).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(CaseNames.Order(StringComparer.Ordinal), prefixes);
        Assert.StartsWith("torch 1.13", file.Metadata["generator"], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_pytorch(string name)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(FixturePath);
        var prefix = name + ".";
        var entries = file.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..]).ToList();
        var inputNames = entries.Where(e => e is not "out" and not "gout" && !e.StartsWith("grad_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(inputNames);
        // Exactly one gradient per input, nothing else.
        Assert.Equal(inputNames.Select(n => "grad_" + n).Order(StringComparer.Ordinal),
                     entries.Where(e => e.StartsWith("grad_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var n in inputNames)
        {
            var t = file.GetTensor(prefix + n);
            Assert.Equal(ScalarType.Float32, t.dtype);
            inputs[n] = t.requires_grad_();
        }

        var parameters = new CaseParameters(file.Metadata[name]);
        var output = Compute(name, parameters, inputs);
        parameters.AssertAllConsumed(name);

        AssertClose(file.GetTensor(prefix + "out"), output, $"{name}.out");

        output.backward(file.GetTensor(prefix + "gout"));
        foreach (var n in inputNames)
        {
            var grad = inputs[n].grad ?? throw new Xunit.Sdk.XunitException($"{name}: no gradient reached input '{n}'");
            AssertClose(file.GetTensor(prefix + "grad_" + n), grad, $"{name}.grad_{n}");
        }
    }

    private static Tensor Compute(string name, CaseParameters p, Dictionary<string, Tensor> t)
    {
        switch (name)
        {
            case "conv2d_basic":
            case "conv2d_stride2":
            case "conv2d_groups":
                return F.conv2d(t["x"], t["weight"], t["bias"], p.Pair("stride"), p.Pair("padding"), p.Pair("dilation"), p.Long("groups"));
            case "conv_transpose2d":
                // The binding takes one value for both axes; a per-axis case would fail here rather than be approximated.
                return F.conv_transpose2d(t["x"], t["weight"], t["bias"], stride: p.Square("stride"), padding: p.Square("padding"),
                                          outputPadding: p.Square("output_padding"), groups: p.Long("groups"), dilation: p.Square("dilation"));
            case "group_norm":
                return F.group_norm(t["x"], p.Long("num_groups"), t["weight"], t["bias"], p.Double("eps"));
            case "layer_norm":
                return F.layer_norm(t["x"], p.Longs("normalized_shape"), t["weight"], t["bias"], p.Double("eps"));
            case "linear":
                p.Expect("formula", "x @ weight^T + bias");
                return F.linear(t["x"], t["weight"], t["bias"]);
            case "attention":
                p.Expect("formula", "softmax((q @ k^T) / sqrt(dim), dim=-1) @ v");
                Assert.Equal(p.Long("dim"), t["q"].size(-1)); // the binding scales by 1/sqrt of q's last dim
                Assert.Equal(-1, p.Long("softmax_dim"));
                return F.scaled_dot_product_attention(t["q"], t["k"], t["v"]);
            case "softmax":
                return F.softmax(t["x"], p.Long("dim"));
            case "silu":
                return F.silu(t["x"]);
            case "gelu":
                p.Expect("approximate", "none"); // the binding's gelu is the exact (erf) form
                return F.gelu(t["x"]);
            case "sigmoid":
                return F.sigmoid(t["x"]);
            case "avg_pool2d":
                p.Expect("ceil_mode", false);
                p.Expect("count_include_pad", true);
                return F.avg_pool2d(t["x"], p.Square("kernel_size"), p.Square("stride"), p.Square("padding"));
            case "upsample_nearest2d":
                p.Expect("mode", "nearest");
                var size = p.Longs("size");
                Assert.Equal(2, size.Length);
                return F.upsample_nearest2d(t["x"], size[0], size[1]);
            case "mse":
                var reduction = p.String("reduction") switch
                {
                    "none" => Reduction.None,
                    "mean" => Reduction.Mean,
                    "sum" => Reduction.Sum,
                    var r => throw new Xunit.Sdk.XunitException($"unknown reduction '{r}'"),
                };
                return F.mse_loss(t["a"], t["b"], reduction);
            case "matmul":
                return torch.matmul(t["a"], t["b"]);
            default:
                throw new Xunit.Sdk.XunitException($"no computation for case '{name}'");
        }
    }

    /// <summary>||actual - expected|| / ||expected|| below <see cref="Tolerance"/>, with equal shapes.</summary>
    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.True(expected.shape.SequenceEqual(actual.shape),
                    $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        var e = expected.data<float>();
        var a = actual.data<float>();
        double diff = 0, norm = 0;
        for (var i = 0; i < e.Length; i++)
        {
            diff += ((double)a[i] - e[i]) * ((double)a[i] - e[i]);
            norm += (double)e[i] * e[i];
        }
        Assert.True(norm > 0, $"{what}: the reference is all zeros");
        var relative = Math.Sqrt(diff / norm);
        Assert.True(relative < Tolerance, $"{what}: relative error {relative:E3} >= {Tolerance:E0}");
    }

    /// <summary>A case's hyper-parameters; remembers which were read so that none is ignored.</summary>
    private sealed class CaseParameters
    {
        private readonly JsonElement _root;
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public CaseParameters(string json)
        {
            using var document = JsonDocument.Parse(json);
            _root = document.RootElement.Clone();
            Assert.Equal(JsonValueKind.Object, _root.ValueKind);
        }

        private JsonElement Get(string key)
        {
            Assert.True(_root.TryGetProperty(key, out var value), $"hyper-parameter '{key}' missing from the metadata");
            _read.Add(key);
            return value;
        }

        public long Long(string key) => Get(key).GetInt64();

        public double Double(string key) => Get(key).GetDouble();

        public string String(string key) => Get(key).GetString()!;

        public long[] Longs(string key) => Get(key).EnumerateArray().Select(e => e.GetInt64()).ToArray();

        public (long h, long w) Pair(string key)
        {
            var v = Longs(key);
            Assert.Equal(2, v.Length);
            return (v[0], v[1]);
        }

        /// <summary>A pair with equal entries, for binding functions that take one value for both axes.</summary>
        public long Square(string key)
        {
            var (h, w) = Pair(key);
            Assert.True(h == w, $"'{key}' is [{h}, {w}]: the binding only takes equal values for both axes");
            return h;
        }

        public void Expect(string key, string value) => Assert.Equal(value, String(key));

        public void Expect(string key, bool value) => Assert.Equal(value, Get(key).GetBoolean());

        public void AssertAllConsumed(string name)
        {
            var ignored = _root.EnumerateObject().Select(p => p.Name).Where(k => !_read.Contains(k)).ToList();
            Assert.True(ignored.Count == 0, $"{name}: hyper-parameters not used by the test: {string.Join(", ", ignored)}");
        }
    }
}
