using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor.</summary>
    public bool requires_grad
    {
        get => NativeMethods.Check(NativeMethods.ad_requires_grad(Handle), "requires_grad") == 1;
        set => NativeMethods.Check(NativeMethods.ad_set_requires_grad(Handle, value ? 1 : 0), "requires_grad");
    }

    /// <summary>Sets <see cref="requires_grad"/> and returns this tensor.</summary>
    public Tensor requires_grad_(bool value = true)
    {
        requires_grad = value;
        return this;
    }

    /// <summary>Whether this tensor was created by the user rather than by a recorded operation.</summary>
    public bool is_leaf => NativeMethods.Check(NativeMethods.ad_is_leaf(Handle), "is_leaf") == 1;

    /// <summary>Accumulates gradients of this (scalar, unless <paramref name="gradient"/> is given) tensor into the leaves.</summary>
    public void backward(Tensor? gradient = null, bool retainGraph = false) =>
        NativeMethods.Check(NativeMethods.ad_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retainGraph ? 1 : 0), "backward");

    /// <summary>The accumulated gradient (a new handle, owned by the current scope), or null when none exists.</summary>
    public unsafe Tensor? grad
    {
        get
        {
            IntPtr handle;
            NativeMethods.Check(NativeMethods.ad_grad(Handle, &handle), "grad");
            return handle == IntPtr.Zero ? null : new Tensor(handle);
        }
        set => NativeMethods.Check(NativeMethods.ad_set_grad(Handle, value?.Handle ?? IntPtr.Zero), "grad");
    }

    /// <summary>A tensor sharing this one's data, cut from the autograd graph.</summary>
    public Tensor detach() => FromNative(NativeMethods.ad_detach(Handle), "detach");

    /// <summary>Makes this tensor use <paramref name="source"/>'s data (PyTorch's <c>tensor.data = source</c>), keeping
    /// its autograd identity. Used to turn parameters into views of one flat buffer.</summary>
    public void set_data(Tensor source) => NativeMethods.Check(NativeMethods.ad_set_data(Handle, source.Handle), "set_data");
}
