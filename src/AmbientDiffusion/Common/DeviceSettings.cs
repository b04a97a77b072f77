namespace AmbientDiffusion.Common;

/// <summary>bf16 autocast: on, off, or chosen for the machine (<see cref="Bf16Decision"/>).</summary>
public enum Bf16Mode
{
    /// <summary>bf16 where the hardware computes it natively and it was measured not to cost quality; float32 elsewhere.</summary>
    Auto,

    /// <summary>Always bf16 autocast.</summary>
    True,

    /// <summary>Always float32.</summary>
    False,
}

/// <summary>Where and how the computation runs (the <c>device:</c> section of a config).</summary>
public sealed record DeviceSettings
{
    /// <summary>cpu, cuda, cuda:N or auto (CUDA when libtorch has it).</summary>
    public string Type { get; init; } = "auto";

    /// <summary>Intra-op threads on the CPU (0: one per core).</summary>
    public int Threads { get; init; }

    /// <summary>bf16 autocast for the forward pass and the loss, on CUDA and on the CPU (where it pays off only on
    /// CPUs with native bf16: AVX512-BF16 or AMX): true, false or auto (<see cref="Bf16Decision.Decide"/>), resolved
    /// once per run by the composition root, which records the resolved value in the run's config (a trainer given an
    /// unresolved auto trains in float32).</summary>
    public Bf16Mode Bf16 { get; init; } = Bf16Mode.Auto;

    /// <summary>Decides <see cref="Bf16"/> for this device on a machine whose CPU reports <paramref name="cpu"/>.</summary>
    public Bf16Decision DecideBf16(CpuCapabilities cpu) => Bf16Decision.Decide(Bf16, Torch.Device.Parse(Type).Type, cpu);

    /// <summary>TF32 matrix products on CUDA.</summary>
    public bool Tf32 { get; init; } = true;

    /// <summary>Throws a <see cref="SettingException"/> on <paramref name="setting"/> unless <paramref name="text"/> names a device.</summary>
    public static void CheckDevice(string setting, string text)
    {
        // "auto" is resolved when the work starts: resolving it here would load libtorch (seconds) to check a word.
        if (text is null) throw new SettingException(setting, text, "cpu, cuda, cuda:N or auto");
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase)) return;
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
        SettingException.Check(Enum.IsDefined(Bf16), "bf16", Bf16, Yaml.Choices<Bf16Mode>());
        SettingException.Check(Threads is >= 0 and <= 1024, "threads", Threads, "0 (one per core) or a positive count");
    }
}
