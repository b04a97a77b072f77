using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>
/// A seeded random-number generator (libtorch's CPU generator, mt19937). Random tensors for CUDA are drawn
/// on the CPU and moved, so one seed gives the same numbers on every device. Its state can be saved into a
/// checkpoint and restored for exact resume. Not a tensor: it is owned by its creator and disposed by it.
/// </summary>
public sealed class Generator : IDisposable
{
    private IntPtr _handle;

    /// <summary>A generator seeded with <paramref name="seed"/>.</summary>
    public Generator(ulong seed)
    {
        torch.Initialize();
        _handle = NativeMethods.Check(NativeMethods.ad_generator_new(seed), "generator");
    }

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(Generator));

    /// <summary>Re-seeds the generator.</summary>
    public Generator manual_seed(ulong seed)
    {
        NativeMethods.Check(NativeMethods.ad_generator_manual_seed(Handle, seed), "manual_seed");
        return this;
    }

    /// <summary>The full state as a uint8 CPU tensor (owned by the current scope).</summary>
    public Tensor get_state() => Tensor.FromNative(NativeMethods.ad_generator_get_state(Handle), "generator.get_state");

    /// <summary>Restores a state obtained from <see cref="get_state"/>.</summary>
    public void set_state(Tensor state) => NativeMethods.Check(NativeMethods.ad_generator_set_state(Handle, state.Handle), "generator.set_state");

    /// <inheritdoc />
    public void Dispose()
    {
        var handle = _handle;
        _handle = IntPtr.Zero;
        if (handle != IntPtr.Zero) NativeMethods.ad_generator_free(handle);
    }
}
