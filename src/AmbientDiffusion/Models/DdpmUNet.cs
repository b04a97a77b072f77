using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Models;

/// <summary>Hyper-parameters of <see cref="DdpmUNet"/>: the architecture of <see cref="ModelSettings"/> (which owns the
/// defaults) for a dataset's geometry.</summary>
public sealed record UNetOptions(
    int Resolution,
    int ImageChannels,
    int MaskChannels,
    int ModelChannels,
    IReadOnlyList<int> ChannelMult,
    int NumBlocks,
    IReadOnlyList<int> AttnResolutions,
    double Dropout,
    bool Gated,
    int EmbeddingMult = 4,
    int LabelDim = 0,
    bool GateSigmoidTwice = false);

/// <summary>
/// EDM's DDPM++ U-Net (Song et al.'s architecture as configured by Karras et al. and used by the ambient-diffusion
/// authors; ambient-spec §4): a positional embedding of c_noise mapped through two SiLU layers; an encoder of
/// <c>NumBlocks</c> residual blocks per level with 2× average-pool downsampling between levels; a decoder that mirrors it
/// with one extra block per level, each consuming one encoder skip; self-attention at the listed resolutions; and a
/// GroupNorm → SiLU → 3×3 conv head. With <c>LabelDim</c> &gt; 0 the network is class-conditional as EDM's: a linear map
/// of the one-hot label scaled by √LabelDim (<c>map_label</c>) is added to the positional embedding, so the all-zero null
/// label adds only the bias (classifier-free guidance's unconditional branch). Input channels are image + mask channels; output channels are image channels only
/// (the official code keeps the mask channel in its output for one-channel data, which we do not copy).
/// </summary>
public sealed class DdpmUNet : NoiseConditionedNetwork
{
    private readonly UNetOptions _options;
    private readonly long _noiseChannels;

    /// <summary>Builds the network, drawing initial weights from <paramref name="init"/> and dropout masks from <paramref name="dropoutGenerator"/>.</summary>
    public DdpmUNet(UNetOptions options, Generator init, Generator dropoutGenerator)
    {
        _options = options;
        var mults = options.ChannelMult;
        if (options.Resolution % (1 << (mults.Count - 1)) != 0)
            throw new ArgumentException($"resolution {options.Resolution} is not divisible by 2^{mults.Count - 1} for {mults.Count} levels (model.channel_mult)");
        var embChannels = (long)options.ModelChannels * options.EmbeddingMult;
        _noiseChannels = options.ModelChannels;
        if (options.LabelDim < 0) throw new ArgumentException($"label dimension {options.LabelDim} must be >= 0 (0: unconditional)");
        // Only conditional networks have map_label, so unconditional checkpoints keep their parameter names.
        if (options.LabelDim > 0) map_label = register_module(nameof(map_label), new EdmLinear(options.LabelDim, _noiseChannels, 1.0, init));
        map_layer0 = register_module(nameof(map_layer0), new EdmLinear(_noiseChannels, embChannels, 1.0, init));
        map_layer1 = register_module(nameof(map_layer1), new EdmLinear(embChannels, embChannels, 1.0, init));

        GateActivation? gate = options.Gated ? (options.GateSigmoidTwice ? GateActivation.SigmoidTwice : GateActivation.Sigmoid) : null;
        UNetBlock Block(long cin, long cout, bool up = false, bool down = false, bool attention = false) =>
            new(cin, cout, embChannels, init, dropoutGenerator, options.Dropout, gate, up, down, attention);

        enc = register_module(nameof(enc), new ModuleDict());
        long cout = options.ImageChannels + options.MaskChannels;
        var skips = new Stack<long>();
        for (var level = 0; level < mults.Count; level++)
        {
            var res = options.Resolution >> level;
            if (level == 0)
            {
                enc.Add($"{res}x{res}_conv", new EdmConv2d(cout, options.ModelChannels, 3, 1.0, init, gate: gate));
                cout = options.ModelChannels;
            }
            else
            {
                enc.Add($"{res}x{res}_down", Block(cout, cout, down: true));
            }
            skips.Push(cout);
            for (var i = 0; i < options.NumBlocks; i++)
            {
                var cin = cout;
                cout = (long)options.ModelChannels * mults[level];
                enc.Add($"{res}x{res}_block{i}", Block(cin, cout, attention: options.AttnResolutions.Contains(res)));
                skips.Push(cout);
            }
        }

        dec = register_module(nameof(dec), new ModuleDict());
        for (var level = mults.Count - 1; level >= 0; level--)
        {
            var res = options.Resolution >> level;
            if (level == mults.Count - 1)
            {
                dec.Add($"{res}x{res}_in0", Block(cout, cout, attention: true));
                dec.Add($"{res}x{res}_in1", Block(cout, cout));
            }
            else
            {
                dec.Add($"{res}x{res}_up", Block(cout, cout, up: true));
            }
            for (var i = 0; i <= options.NumBlocks; i++)
            {
                var cin = cout + skips.Pop();
                cout = (long)options.ModelChannels * mults[level];
                dec.Add($"{res}x{res}_block{i}", Block(cin, cout, attention: i == options.NumBlocks && options.AttnResolutions.Contains(res)));
            }
        }
        // The output head lives in the decoder under EDM's names (dec.<res>x<res>_aux_norm / _aux_conv).
        out_norm = dec.Add($"{options.Resolution}x{options.Resolution}_aux_norm", new EdmGroupNorm(cout));
        out_conv = dec.Add($"{options.Resolution}x{options.Resolution}_aux_conv", new EdmConv2d(cout, options.ImageChannels, 3, 1e-5, init, gate: gate));
    }

#pragma warning disable IDE1006
    private EdmLinear? map_label { get; }
    private EdmLinear map_layer0 { get; }
    private EdmLinear map_layer1 { get; }
    private ModuleDict enc { get; }
    private ModuleDict dec { get; }
    private EdmGroupNorm out_norm { get; }
    private EdmConv2d out_conv { get; }
#pragma warning restore IDE1006

    /// <inheritdoc />
    public override int ImageChannels => _options.ImageChannels;

    /// <inheritdoc />
    public override int MaskChannels => _options.MaskChannels;

    /// <inheritdoc />
    public override int Resolution => _options.Resolution;

    /// <inheritdoc />
    public override int LabelDim => _options.LabelDim;

    /// <summary>The hyper-parameters.</summary>
    public UNetOptions Options => _options;

    /// <summary>sin/cos features of c_noise at geometrically spaced frequencies (EDM's positional embedding with
    /// endpoint, in [sin, cos] order).</summary>
    internal Tensor Embed(Tensor noiseLabels)
    {
        using var scope = torch.NewDisposeScope();
        var half = _noiseChannels / 2;
        var freqs = torch.arange(0, half, 1, ScalarType.Float32, noiseLabels.device).div(half - 1);
        freqs = torch.full([half], 1.0 / 10000, ScalarType.Float32, noiseLabels.device).pow(freqs);
        var angles = noiseLabels.to(ScalarType.Float32).reshape(-1, 1) * freqs.reshape(1, -1);
        return scope.MoveToOuter(torch.cat([angles.sin(), angles.cos()], 1));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input, Tensor noiseLabels) => forward(input, noiseLabels, null);

    /// <inheritdoc />
    public override Tensor forward(Tensor input, Tensor noiseLabels, Tensor? classLabels)
    {
        var expected = _options.ImageChannels + _options.MaskChannels;
        if (input.dim() != 4 || input.size(1) != expected || input.size(2) != _options.Resolution || input.size(3) != _options.Resolution)
            throw new ArgumentException($"the U-Net expects [B, {expected}, {_options.Resolution}, {_options.Resolution}] input, got [{string.Join(", ", input.shape)}]");
        using var scope = torch.NewDisposeScope();
        var emb = Embed(noiseLabels);
        if (map_label is not null) emb = emb + map_label.forward(CheckLabels(classLabels, input.size(0)).to(emb.dtype) * Math.Sqrt(_options.LabelDim));
        else if (classLabels is not null) throw new ArgumentException("this model is unconditional (model.label_dim = 0): it takes no class labels");
        emb = silu(map_layer1.forward(silu(map_layer0.forward(emb))));
        var skips = new Stack<Tensor>();
        var x = input;
        foreach (var (_, module) in enc.Items)
        {
            x = module is UNetBlock block ? block.forward(x, emb) : ((EdmConv2d)module).forward(x);
            skips.Push(x);
        }
        foreach (var (_, module) in dec.Items)
        {
            if (module is not UNetBlock block) continue;
            if (x.size(1) != block.InChannels) x = torch.cat([x, skips.Pop()], 1);
            x = block.forward(x, emb);
        }
        return scope.MoveToOuter(out_conv.forward(silu(out_norm.forward(x))));
    }

    private Tensor CheckLabels(Tensor? classLabels, long batch)
    {
        if (classLabels is null) throw new ArgumentException($"this model is class-conditional ({_options.LabelDim} classes): it needs one-hot class labels [B, {_options.LabelDim}] (all zeros for the null label)");
        if (classLabels.dim() != 2 || classLabels.size(0) != batch || classLabels.size(1) != _options.LabelDim)
            throw new ArgumentException($"class labels must be [{batch}, {_options.LabelDim}], got [{string.Join(", ", classLabels.shape)}]");
        return classLabels;
    }
}
