using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public partial class Tensor
{
    private unsafe Tensor WithDims(ReadOnlySpan<long> dims, delegate*<IntPtr, long*, int, IntPtr> op, string name)
    {
        fixed (long* p = dims) return FromNative(op(Handle, p, dims.Length), name);
    }

    /// <summary>A view with another shape (one size may be -1); fails when the strides do not allow a view.</summary>
    public unsafe Tensor view(params long[] shape) => WithDims(shape, &NativeMethods.ad_view, "view");

    /// <summary>A tensor with another shape: a view where possible, a copy otherwise.</summary>
    public unsafe Tensor reshape(params long[] shape) => WithDims(shape, &NativeMethods.ad_reshape, "reshape");

    /// <summary>Broadcasts size-1 dimensions to <paramref name="shape"/> without copying (-1 keeps a size).</summary>
    public unsafe Tensor expand(params long[] shape) => WithDims(shape, &NativeMethods.ad_expand, "expand");

    /// <summary>Tiles the tensor <paramref name="repeats"/>[i] times along each dimension.</summary>
    public unsafe Tensor repeat(params long[] repeats) => WithDims(repeats, &NativeMethods.ad_repeat, "repeat");

    /// <summary>Reorders the dimensions.</summary>
    public unsafe Tensor permute(params long[] dims) => WithDims(dims, &NativeMethods.ad_permute, "permute");

    /// <summary>Reverses the order of elements along <paramref name="dims"/> (a copy).</summary>
    public unsafe Tensor flip(params long[] dims) => WithDims(dims, &NativeMethods.ad_flip, "flip");

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor transpose(long dim0, long dim1) => FromNative(NativeMethods.ad_transpose(Handle, dim0, dim1), "transpose");

    /// <summary>Flattens dimensions start..end into one.</summary>
    public Tensor flatten(long startDim = 0, long endDim = -1) => FromNative(NativeMethods.ad_flatten(Handle, startDim, endDim), "flatten");

    /// <summary>Inserts a dimension of size 1.</summary>
    public Tensor unsqueeze(long dim) => FromNative(NativeMethods.ad_unsqueeze(Handle, dim), "unsqueeze");

    /// <summary>Removes dimension <paramref name="dim"/> if it has size 1.</summary>
    public Tensor squeeze(long dim) => FromNative(NativeMethods.ad_squeeze(Handle, dim, 1), "squeeze");

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor squeeze() => FromNative(NativeMethods.ad_squeeze(Handle, 0, 0), "squeeze");

    /// <summary>A row-major copy, or a new handle to this tensor when it already is contiguous.</summary>
    public Tensor contiguous() => FromNative(NativeMethods.ad_contiguous(Handle), "contiguous");

    /// <summary>Elements start..start+length of dimension <paramref name="dim"/> (a view).</summary>
    public Tensor narrow(long dim, long start, long length) => FromNative(NativeMethods.ad_narrow(Handle, dim, start, length), "narrow");

    /// <summary>Index <paramref name="index"/> of dimension <paramref name="dim"/>, which is removed (a view).</summary>
    public Tensor select(long dim, long index) => FromNative(NativeMethods.ad_select(Handle, dim, index), "select");

    /// <summary>Rows <paramref name="index"/> (int64) of dimension <paramref name="dim"/> (a copy).</summary>
    public Tensor index_select(long dim, Tensor index) => FromNative(NativeMethods.ad_index_select(Handle, dim, index.Handle), "index_select");

    /// <summary>Gathers values along <paramref name="dim"/> at <paramref name="index"/>.</summary>
    public Tensor gather(long dim, Tensor index) => FromNative(NativeMethods.ad_gather(Handle, dim, index.Handle), "gather");

    /// <summary>Splits into <paramref name="chunks"/> views along <paramref name="dim"/> (the last may be smaller; fewer may come back).</summary>
    public unsafe Tensor[] chunk(long chunks, long dim = 0)
    {
        if (chunks < 1 || chunks > 4096) throw new TorchException("chunk", $"chunks must lie in [1, 4096], got {chunks}");
        var handles = new IntPtr[chunks];
        fixed (IntPtr* p = handles)
        {
            var n = NativeMethods.Check(NativeMethods.ad_chunk(Handle, chunks, dim, p, handles.Length), "chunk");
            var parts = new Tensor[n];
            for (var i = 0; i < n; i++) parts[i] = new Tensor(handles[i]);
            return parts;
        }
    }

    /// <summary>The sub-tensor at <paramref name="index"/> of dimension 0.</summary>
    public Tensor this[long index] => select(0, index);
}
