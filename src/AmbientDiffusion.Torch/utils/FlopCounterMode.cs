namespace AmbientDiffusion.Torch;

/// <summary>Counts the floating-point operations of the matrix-product-like operators called on this thread while it is
/// active, as PyTorch's <c>torch.utils.flop_counter.FlopCounterMode</c>: convolutions, transposed convolutions, linear
/// layers and matrix products, at 2 FLOPs per multiply-add. Elementwise operators are not counted (the convention behind
/// MFU figures). Only the calls made from .NET are seen, so a backward pass, which runs inside libtorch, is not: for a
/// training step the usual estimate is 3× the forward count.</summary>
public sealed class FlopCounterMode : IDisposable
{
    [ThreadStatic] private static FlopCounterMode? _active;
    private readonly FlopCounterMode? _outer;
    private bool _disposed;

    /// <summary>Starts counting on this thread; an enclosing counter keeps counting too.</summary>
    public FlopCounterMode()
    {
        _outer = _active;
        _active = this;
    }

    /// <summary>The operations counted so far.</summary>
    public long get_total_flops() => _total;

    private long _total;

    /// <summary>Whether a counter is active on this thread (the operators skip the shape queries otherwise).</summary>
    internal static bool IsActive => _active is not null;

    /// <summary>Adds to every active counter of this thread.</summary>
    internal static void Add(long flops)
    {
        for (var counter = _active; counter is not null; counter = counter._outer) counter._total += flops;
    }

    /// <summary>2 · outputs · (C_in/groups · kH · kW) for a convolution with weight [O, C_in/groups, kH, kW].</summary>
    internal static void Convolution(Tensor output, Tensor weight) =>
        Add(2 * output.numel() * weight.size(1) * weight.size(2) * weight.size(3));

    /// <summary>2 · inputs · (C_out/groups · kH · kW) for a transposed convolution with weight [C_in, C_out/groups, kH, kW].</summary>
    internal static void TransposedConvolution(Tensor input, Tensor weight) =>
        Add(2 * input.numel() * weight.size(1) * weight.size(2) * weight.size(3));

    /// <summary>2 · outputs · K for a matrix product whose left operand has K columns (K elements when 1-d).</summary>
    internal static void MatrixProduct(Tensor output, Tensor left) => Add(2 * output.numel() * left.size(-1));

    /// <summary>Stops counting; the totals stay readable.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_active != this) throw new InvalidOperationException("FlopCounterMode disposed out of order: dispose nested counters first");
        _active = _outer;
    }
}
