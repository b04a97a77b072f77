using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Common;

/// <summary>
/// Whether training runs under bf16 autocast, and why: <c>device.bf16</c> <c>true</c> and <c>false</c> are obeyed;
/// <c>auto</c> picks float32 where the hardware has no native bf16; on a CPU with native bf16 the flags alone are only the
/// rule for when nothing can be measured (a dry run, a data-parallel job), and the run replaces it by timing a few steps
/// each way on its own network (<see cref="Measured"/>), because AVX512-BF16 without AMX was measured slower than float32
/// on one CPU and faster on another.
/// </summary>
/// <param name="Enabled">bf16 autocast on.</param>
/// <param name="Reason">Why, in words, for the console and the run's log.</param>
public sealed record Bf16Decision(bool Enabled, string Reason)
{
    /// <summary>The timings the decision followed (null: decided by a rule or by the config).</summary>
    public Bf16Timing? Timing { get; init; }

    /// <summary>Whether this is <c>auto</c>'s rule on a CPU with native bf16, which a measurement on the run's network
    /// should replace (<see cref="Measured"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ToMeasure { get; init; }

    /// <summary>Whether <c>auto</c>'s rule, before (or without) a measurement, picks bf16 on a CPU with native bf16. Set
    /// by the quickstart's quality measurement (classifier-space FD, precision and recall in float32 against bf16, same
    /// seeds; docs/benchmarks.md), which showed no loss; the speed is then measured per run (<see cref="Measured"/>).</summary>
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
            ? new(true, $"auto: the CPU reports {string.Join(" and ", cpu.NativeBf16)} (native bf16); to be measured on the run's network at the start of training") { ToMeasure = true }
            : new(false, $"auto: float32; the CPU reports {string.Join(" and ", cpu.NativeBf16)}, but bf16 was measured to cost quality"),
        Bf16Mode.Auto => new(false, $"auto: float32, because the CPU reports no native bf16 (neither avx512_bf16 nor amx_bf16; {cpu.Source}); emulated bf16 is slower, so nothing was measured"),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "expected auto, true or false"),
    };

    /// <summary>auto's decision on a CPU named <paramref name="cpuModel"/> from <paramref name="timing"/>: bf16 only when
    /// it was measured faster (<see cref="Bf16Timing.ChoosesBf16"/>).</summary>
    public static Bf16Decision Measured(Bf16Timing timing, string cpuModel)
    {
        var how = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"a step took {timing.Bf16StepSeconds * 1000:0.#} ms under bf16 autocast and {timing.Float32StepSeconds * 1000:0.#} ms in float32 ({timing.Ratio:0.00}x; median of {timing.Steps} each way on the run's network, {cpuModel}{(timing.FromCache ? ", cached" : "")})");
        return timing.ChoosesBf16
            ? new(true, $"auto: bf16, because {how}") { Timing = timing }
            : new(false, $"auto: float32, because {how}; bf16 is chosen below {Bf16Timing.MaxRatioForBf16:0.00}x") { Timing = timing };
    }
}
