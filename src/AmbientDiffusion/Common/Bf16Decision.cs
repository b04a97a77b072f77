using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Common;

/// <summary>
/// Whether training runs under bf16 autocast, and why: <c>device.bf16</c> <c>true</c> and <c>false</c> are obeyed;
/// <c>auto</c> picks bf16 where it is native and measured not to cost quality, float32 elsewhere.
/// </summary>
/// <param name="Enabled">bf16 autocast on.</param>
/// <param name="Reason">Why, in words, for the console and the run's log.</param>
public sealed record Bf16Decision(bool Enabled, string Reason)
{
    /// <summary>Whether <c>auto</c> picks bf16 on a CPU with native bf16. Set by the quickstart's quality measurement
    /// (classifier-space FD, precision and recall in float32 against bf16, same seeds; docs/benchmarks.md), which
    /// showed no loss; the CelebA-64 step there took 0.52x its float32 time.</summary>
    public const bool AutoOnNativeCpu = true;

    /// <summary>The smallest CUDA compute capability (major) with native bf16 (Ampere, 8.0).</summary>
    public const int MinCudaMajorForBf16 = 8;

    /// <summary>Pure decision: <paramref name="mode"/> on a device of type <paramref name="device"/> whose CPU reports
    /// <paramref name="cpu"/> and whose GPU has compute capability major <paramref name="cudaMajor"/> (null: not known).</summary>
    public static Bf16Decision Decide(Bf16Mode mode, DeviceType device, CpuCapabilities cpu, int? cudaMajor = null) => mode switch
    {
        Bf16Mode.True => new(true, "device.bf16: true"),
        Bf16Mode.False => new(false, "device.bf16: false"),
        Bf16Mode.Auto when device == DeviceType.CUDA => cudaMajor switch
        {
            null => new(false, "auto: float32, because the GPU's compute capability is not known to this build (set device.bf16: true on compute capability 8.0 or newer)"),
            >= MinCudaMajorForBf16 => new(true, $"auto: the GPU has compute capability {cudaMajor}.x (native bf16)"),
            _ => new(false, $"auto: float32, because the GPU has compute capability {cudaMajor}.x (native bf16 needs {MinCudaMajorForBf16}.0)"),
        },
        Bf16Mode.Auto when cpu.HasNativeBf16 => AutoOnNativeCpu
            ? new(true, $"auto: the CPU reports {string.Join(" and ", cpu.NativeBf16)} (native bf16)")
            : new(false, $"auto: float32; the CPU reports {string.Join(" and ", cpu.NativeBf16)}, but bf16 was measured to cost quality"),
        Bf16Mode.Auto => new(false, $"auto: float32, because the CPU reports no native bf16 (neither avx512_bf16 nor amx_bf16; {cpu.Source})"),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "expected auto, true or false"),
    };
}
