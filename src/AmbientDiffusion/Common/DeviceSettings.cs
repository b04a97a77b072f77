namespace AmbientDiffusion.Common;

/// <summary>Where and how the computation runs (the <c>device:</c> section of a config).</summary>
public sealed record DeviceSettings
{
    /// <summary>cpu, cuda, cuda:N or auto (CUDA when libtorch has it).</summary>
    public string Type { get; init; } = "auto";

    /// <summary>Intra-op threads on the CPU (0: one per core).</summary>
    public int Threads { get; init; }

    /// <summary>bf16 autocast for the forward pass and the loss, on CUDA and on the CPU (where it pays off only on
    /// CPUs with native bf16: AVX512-BF16 or AMX).</summary>
    public bool Bf16 { get; init; }

    /// <summary>TF32 matrix products on CUDA.</summary>
    public bool Tf32 { get; init; } = true;

    /// <summary>Throws a <see cref="SettingException"/> on <paramref name="setting"/> unless <paramref name="text"/> names a device.</summary>
    public static void CheckDevice(string setting, string text)
    {
        try
        {
            Torch.Device.Parse(text);
        }
        catch (ArgumentException)
        {
            throw new SettingException(setting, text, "cpu, cuda, cuda:N or auto");
        }
    }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        CheckDevice("type", Type);
        SettingException.Check(Threads is >= 0 and <= 1024, "threads", Threads, "0 (one per core) or a positive count");
    }
}
