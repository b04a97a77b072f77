namespace AmbientDiffusion.Config;

/// <summary>Where and how the computation runs.</summary>
public sealed class DeviceSection
{
    /// <summary>cpu, cuda, cuda:N or auto (CUDA when libtorch has it).</summary>
    public string Type { get; set; } = "auto";

    /// <summary>Intra-op threads on the CPU (0: one per core).</summary>
    public int Threads { get; set; }

    /// <summary>bf16 autocast for the forward pass and the loss, on CUDA and on the CPU (where it pays off only on
    /// CPUs with native bf16: AVX512-BF16 or AMX).</summary>
    public bool Bf16 { get; set; }

    /// <summary>TF32 matrix products on CUDA.</summary>
    public bool Tf32 { get; set; } = true;

    internal void Validate()
    {
        try
        {
            Torch.Device.Parse(Type);
        }
        catch (ArgumentException)
        {
            ExperimentConfig.Fail("device.type", Type, "cpu, cuda, cuda:N or auto");
        }
        ExperimentConfig.Check(Threads is >= 0 and <= 1024, "device.threads", Threads, "0 (one per core) or a positive count");
    }
}
