using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>
/// A libtorch tensor. Shaped like TorchSharp's <c>torch.Tensor</c>: lower-case PyTorch method names, in-place
/// variants with a trailing underscore, operators for arithmetic. A tensor belongs to the dispose scope that was
/// innermost when it was created (see <see cref="DisposeScope"/>); it is freed when that scope ends or when
/// disposed. There is deliberately no finalizer: native memory is released deterministically, never by the GC.
/// </summary>
public partial class Tensor : IDisposable
{
    private IntPtr _handle;

    internal Tensor(IntPtr handle, bool attachToScope = true)
    {
        _handle = handle;
        if (attachToScope) DisposeScope.Current?.Attach(this);
    }

    /// <summary>Wraps a handle returned by the shim, throwing <see cref="TorchException"/> when it is null.</summary>
    internal static Tensor FromNative(IntPtr handle, string op) => new(NativeMethods.Check(handle, op));

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(Tensor), "the tensor was disposed (by its dispose scope or explicitly)");

    internal DisposeScope? Scope { get; set; }

    /// <summary>True once the native tensor has been freed.</summary>
    public bool IsInvalid => _handle == IntPtr.Zero;

    /// <summary>Frees the native tensor now.</summary>
    public void Dispose()
    {
        var handle = _handle;
        if (handle == IntPtr.Zero) return;
        _handle = IntPtr.Zero;
        NativeMethods.ad_tensor_free(handle);
    }

    /// <summary>Moves this tensor to the scope enclosing its own (or to none) and returns it.</summary>
    public Tensor MoveToOuterDisposeScope() => Scope is { } scope ? scope.MoveToOuter(this) : this;

    /// <summary>Removes this tensor from its scope: the caller now owns it and must dispose it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope = null;
        return this;
    }

    // ---- metadata ------------------------------------------------------------------------------------

    /// <summary>Number of dimensions.</summary>
    public int dim() => NativeMethods.Check(NativeMethods.ad_tensor_dim(Handle), "dim");

    /// <summary>Number of dimensions.</summary>
    public int ndim => dim();

    /// <summary>The sizes of every dimension.</summary>
    public unsafe long[] shape
    {
        get
        {
            Span<long> buffer = stackalloc long[64];
            fixed (long* p = buffer)
            {
                var n = NativeMethods.Check(NativeMethods.ad_tensor_shape(Handle, p, buffer.Length), "shape");
                return buffer[..n].ToArray();
            }
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long size(int dim)
    {
        var s = shape;
        var d = dim < 0 ? dim + s.Length : dim;
        if (d < 0 || d >= s.Length) throw new TorchException("size", $"dimension {dim} out of range for a {s.Length}-d tensor");
        return s[d];
    }

    /// <summary>Element type.</summary>
    public ScalarType dtype => (ScalarType)NativeMethods.Check(NativeMethods.ad_tensor_dtype(Handle), "dtype");

    /// <summary>The device holding the data.</summary>
    public unsafe Device device
    {
        get
        {
            int type, index;
            NativeMethods.Check(NativeMethods.ad_tensor_device(Handle, &type, &index), "device");
            return type == 0 ? Device.CPU : new Device((DeviceType)type, index);
        }
    }

    /// <summary>Number of elements.</summary>
    public long numel() => NativeMethods.Check(NativeMethods.ad_tensor_numel(Handle), "numel");

    /// <summary>Whether the elements are laid out densely in row-major order.</summary>
    public bool is_contiguous() => NativeMethods.Check(NativeMethods.ad_tensor_is_contiguous(Handle), "is_contiguous") == 1;

    /// <summary>Bytes per element.</summary>
    public int element_size() => dtype.ElementSize();

    /// <inheritdoc />
    public override string ToString() => IsInvalid ? "tensor(disposed)" : $"tensor(shape=[{string.Join(", ", shape)}], dtype={dtype}, device={device})";

    // ---- moving between devices, types and managed memory ---------------------------------------------

    /// <summary>This tensor converted to <paramref name="type"/> on <paramref name="target"/>; returns a new handle to
    /// the same data when nothing changes unless <paramref name="copy"/> is set.</summary>
    public Tensor to(ScalarType type, Device target, bool copy = false) =>
        FromNative(NativeMethods.ad_tensor_to(Handle, (int)type, (int)target.Type, target.Index, copy ? 1 : 0), "to");

    /// <summary>This tensor converted to <paramref name="type"/>.</summary>
    public Tensor to(ScalarType type) => to(type, device);

    /// <summary>This tensor moved to <paramref name="target"/>.</summary>
    public Tensor to(Device target) => to(dtype, target);

    /// <summary>This tensor on the CPU.</summary>
    public Tensor cpu() => to(Device.CPU);

    /// <summary>A copy with its own storage.</summary>
    public Tensor clone() => FromNative(NativeMethods.ad_tensor_clone(Handle), "clone");

    /// <summary>A second handle to the same tensor (shared storage and autograd identity).</summary>
    public Tensor alias() => FromNative(NativeMethods.ad_tensor_alias(Handle), "alias");

    /// <summary>The single element of a one-element tensor, converted to <typeparamref name="T"/>.</summary>
    public unsafe T item<T>() where T : unmanaged, IConvertible
    {
        if (typeof(T) == typeof(long))
        {
            // Exact for every int64, which a round trip through double is not beyond 2^53.
            long integer;
            NativeMethods.Check(NativeMethods.ad_tensor_item_int64(Handle, &integer), "item");
            return (T)(object)integer;
        }
        double value;
        NativeMethods.Check(NativeMethods.ad_tensor_item(Handle, &value), "item");
        return typeof(T) == typeof(bool) ? (T)(object)(value != 0) : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Copies the elements (row-major) into a new array. <typeparamref name="T"/> must match <see cref="dtype"/>.</summary>
    public T[] data<T>() where T : unmanaged
    {
        var result = new T[checked((int)numel())];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies the elements (row-major) into <paramref name="destination"/>, whose length must equal numel().</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        var expected = ScalarTypes.Of<T>();
        var actual = dtype;
        if (expected != actual) throw new TorchException("copy_to", $"tensor has dtype {actual}, the destination holds {typeof(T).Name}");
        fixed (T* p = destination)
            NativeMethods.Check(NativeMethods.ad_tensor_copy_to(Handle, p, (long)destination.Length * sizeof(T)), "copy_to");
    }

    /// <summary>Copies the raw bytes (row-major, native byte order) into <paramref name="destination"/>.</summary>
    public unsafe void CopyBytesTo(Span<byte> destination)
    {
        fixed (byte* p = destination)
            NativeMethods.Check(NativeMethods.ad_tensor_copy_to(Handle, p, destination.Length), "copy_to");
    }

    /// <summary>The address of the first element of a contiguous CPU tensor (valid while the tensor lives).</summary>
    public IntPtr data_ptr() => NativeMethods.Check(NativeMethods.ad_tensor_data_ptr(Handle), "data_ptr");

    internal static unsafe IntPtr[] Handles(IReadOnlyList<Tensor> tensors)
    {
        var handles = new IntPtr[tensors.Count];
        for (var i = 0; i < handles.Length; i++) handles[i] = tensors[i].Handle;
        return handles;
    }

}
