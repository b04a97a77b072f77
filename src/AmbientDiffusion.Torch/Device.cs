namespace AmbientDiffusion.Torch;

/// <summary>Kinds of device; values are c10::DeviceType codes.</summary>
public enum DeviceType
{
    /// <summary>The host CPU.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU.</summary>
    CUDA = 1,
}

/// <summary>A device a tensor lives on: <c>Device.CPU</c>, <c>Device.CUDA(0)</c>, or parsed from "cpu", "cuda:1", "auto".</summary>
public sealed record Device(DeviceType Type, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static readonly Device CPU = new(DeviceType.CPU);

    /// <summary>A CUDA device.</summary>
    public static Device CUDA(int index = 0) => new(DeviceType.CUDA, index);

    /// <summary>CUDA device 0 when libtorch has CUDA and a GPU is present, the CPU otherwise.</summary>
    public static Device Auto() => torch.cuda.is_available() ? CUDA(0) : CPU;

    /// <summary>Parses "cpu", "cuda", "cuda:N" or "auto".</summary>
    public static Device Parse(string text)
    {
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return CPU;
        if (value == "auto") return Auto();
        if (value == "cuda") return CUDA(0);
        if (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), out var index) && index >= 0)
            return CUDA(index);
        throw new ArgumentException($"unknown device '{text}': expected cpu, cuda, cuda:N or auto", nameof(text));
    }

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : $"cuda:{Index}";
}
