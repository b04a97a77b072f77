using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    /// <summary>TorchScript, as <c>torch.jit</c>: loading scripted or traced modules saved with <c>torch.jit.save</c>.</summary>
    public static class jit
    {
        /// <summary>
        /// Loads the TorchScript archive at <paramref name="path"/> onto <paramref name="device"/> (CPU when null), in eval
        /// mode. A missing, corrupt or non-TorchScript file throws <see cref="TorchException"/> naming the file.
        /// </summary>
        public static ScriptModule load(string path, Device? device = null)
        {
            ArgumentNullException.ThrowIfNull(path);
            Initialize();
            var target = device ?? Device.CPU;
            var full = Path.GetFullPath(path);
            var handle = NativeMethods.Check(NativeMethods.ad_jit_load(full, (int)target.Type, target.Index), "jit.load");
            return new ScriptModule(handle, full, target);
        }
    }
}
