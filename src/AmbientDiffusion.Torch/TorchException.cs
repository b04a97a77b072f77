namespace AmbientDiffusion.Torch;

/// <summary>A libtorch (or shim) error, surfaced as data across the C ABI: the operation and libtorch's message.</summary>
public sealed class TorchException : Exception
{
    /// <summary>Creates the exception for a failed operation.</summary>
    public TorchException(string operation, string message) : base($"{operation}: {message}")
    {
        Operation = operation;
        NativeMessage = message;
    }

    /// <summary>The binding operation that failed (e.g. "conv2d").</summary>
    public string Operation { get; }

    /// <summary>The message reported by libtorch or the shim, without a backtrace.</summary>
    public string NativeMessage { get; }
}
