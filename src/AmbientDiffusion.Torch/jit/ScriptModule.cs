using System.Runtime.InteropServices;
using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>
/// A TorchScript module loaded with <see cref="torch.jit.load"/>, shaped like TorchSharp's <c>ScriptModule</c>:
/// <see cref="forward(Tensor[])"/> / <see cref="call(Tensor[])"/> run it without gradients and return its output
/// tensor (the first tensor of a tuple or list output). Owned by its creator and disposed by it, not by a scope.
/// </summary>
public sealed class ScriptModule : IDisposable
{
    private IntPtr _handle;

    internal ScriptModule(IntPtr handle, string path, Device device)
    {
        _handle = handle;
        FilePath = path;
        Device = device;
    }

    /// <summary>The file the module was loaded from (named in every error).</summary>
    public string FilePath { get; }

    /// <summary>The device its parameters and buffers are on.</summary>
    public Device Device { get; private set; }

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ScriptModule), $"TorchScript module '{FilePath}' was disposed");

    /// <summary>Moves parameters and buffers to <paramref name="device"/>.</summary>
    public ScriptModule to(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        NativeMethods.Check(NativeMethods.ad_jit_to(Handle, (int)device.Type, device.Index), "jit.to");
        Device = device;
        return this;
    }

    /// <summary>Inference behaviour (dropout off, batch norm uses running statistics); the state after loading.</summary>
    public ScriptModule eval() => train(false);

    /// <summary>Switches training behaviour on or off.</summary>
    public ScriptModule train(bool on = true)
    {
        NativeMethods.Check(NativeMethods.ad_jit_train(Handle, on ? 1 : 0), "jit.train");
        return this;
    }

    /// <summary>Calls <c>forward(inputs...)</c> without gradients.</summary>
    public Tensor forward(params Tensor[] inputs) => forward(inputs, null);

    /// <summary>
    /// Calls <c>forward(inputs..., name=value, ...)</c> without gradients; <paramref name="kwargs"/> are boolean keyword
    /// arguments such as Inception's <c>return_features=True</c>. The result belongs to the current dispose scope.
    /// </summary>
    public unsafe Tensor forward(IReadOnlyList<Tensor> inputs, IReadOnlyDictionary<string, bool>? kwargs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var handles = new IntPtr[inputs.Count];
        for (var i = 0; i < handles.Length; i++) handles[i] = inputs[i].Handle;
        var pairs = kwargs?.ToArray() ?? [];
        var names = new IntPtr[pairs.Length];
        var values = new int[pairs.Length];
        try
        {
            for (var i = 0; i < pairs.Length; i++)
            {
                names[i] = Marshal.StringToCoTaskMemUTF8(pairs[i].Key);
                values[i] = pairs[i].Value ? 1 : 0;
            }
            fixed (IntPtr* h = handles)
            fixed (IntPtr* n = names)
            fixed (int* v = values)
                return Tensor.FromNative(NativeMethods.ad_jit_forward(Handle, h, handles.Length, n, v, pairs.Length), "jit.forward");
        }
        finally
        {
            foreach (var name in names) Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>Same as <see cref="forward(Tensor[])"/> (TorchSharp's spelling).</summary>
    public Tensor call(params Tensor[] inputs) => forward(inputs, null);

    /// <summary>Same as <see cref="forward(IReadOnlyList{Tensor}, IReadOnlyDictionary{string, bool})"/>.</summary>
    public Tensor call(IReadOnlyList<Tensor> inputs, IReadOnlyDictionary<string, bool>? kwargs) => forward(inputs, kwargs);

    /// <inheritdoc />
    public void Dispose()
    {
        var handle = _handle;
        _handle = IntPtr.Zero;
        if (handle != IntPtr.Zero) NativeMethods.ad_jit_free(handle);
    }
}
