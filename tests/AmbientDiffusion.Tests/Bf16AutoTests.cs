using AmbientDiffusion.Cli;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary><c>device.bf16: auto</c>: the pure decision with both answers of the CPU probe, the config syntax, and the
/// resolved value printed by a dry run and recorded in a run's config.yaml and checkpoint.</summary>
[Collection("memory")]
public class Bf16AutoTests
{
    // Abbreviated from a real /proc/cpuinfo: the flags line names every feature the kernel sees.
    private const string SapphireRapidsLike = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu vme de pse tsc msr avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile amx_int8
        bogomips	: 4000.00

        processor	: 1
        flags		: fpu vme de pse tsc msr avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile amx_int8
        """;

    private const string SkylakeLike = """
        processor	: 0
        model name	: Intel(R) Xeon(R) Gold 6140
        flags		: fpu vme de pse tsc msr avx2 avx512f avx512bw avx512_vnni
        """;

    /// <summary>A config that validates (a corrupted data file named) with <paramref name="device"/> as its device section.</summary>
    private static ExperimentConfig Parse(string device, params string[] overrides) =>
        ConfigLoader.Parse($"data:\n  corrupted: corrupted.safetensors\n{device}", "inline.yaml", overrides);

    private static CpuCapabilities Cpu(string flags) => CpuCapabilities.FromCpuInfo($"flags\t\t: {flags}\n", "test");

    [Fact]
    public void The_cpuinfo_flags_line_is_parsed_and_only_bf16_units_count_as_native()
    {
        var sapphire = CpuCapabilities.FromCpuInfo(SapphireRapidsLike);
        Assert.Contains("amx_tile", sapphire.Flags);
        Assert.Equal(["avx512_bf16", "amx_bf16"], sapphire.NativeBf16);
        Assert.True(sapphire.HasNativeBf16);
        Assert.False(CpuCapabilities.FromCpuInfo(SkylakeLike).HasNativeBf16);
        Assert.True(Cpu("sse avx512_bf16").HasNativeBf16);
        Assert.True(Cpu("sse amx_bf16 amx_tile").HasNativeBf16);
        Assert.False(Cpu("sse amx_tile amx_int8").HasNativeBf16); // AMX without its bf16 unit
        Assert.False(CpuCapabilities.FromCpuInfo("processor : 0\n").HasNativeBf16);
    }

    [Fact]
    public void Auto_picks_bf16_exactly_when_the_cpu_reports_native_bf16()
    {
        var native = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, Cpu("avx2 avx512_bf16"));
        var emulated = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, Cpu("avx2 avx512f"));
        Assert.Equal(Bf16Decision.AutoOnNativeCpu, native.Enabled);
        Assert.Contains("avx512_bf16", native.Reason, StringComparison.Ordinal);
        Assert.False(emulated.Enabled);
        Assert.Contains("no native bf16", emulated.Reason, StringComparison.Ordinal);
        Assert.False(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, CpuCapabilities.Unknown("not probed")).Enabled);
    }

    [Fact]
    public void True_and_false_are_obeyed_whatever_the_hardware_says()
    {
        foreach (var flags in new[] { "avx512_bf16", "avx2" })
            foreach (var device in new[] { Torch.DeviceType.CPU, Torch.DeviceType.CUDA })
            {
                Assert.True(Bf16Decision.Decide(Bf16Mode.True, device, Cpu(flags), cudaMajor: 7).Enabled);
                Assert.False(Bf16Decision.Decide(Bf16Mode.False, device, Cpu(flags), cudaMajor: 9).Enabled);
            }
    }

    [Fact]
    public void Auto_on_cuda_needs_compute_capability_8_and_stays_float32_when_it_is_unknown()
    {
        var cpu = Cpu("avx512_bf16");
        Assert.True(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CUDA, cpu, cudaMajor: 8).Enabled);
        Assert.True(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CUDA, cpu, cudaMajor: 9).Enabled);
        Assert.False(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CUDA, cpu, cudaMajor: 7).Enabled);
        var unknown = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CUDA, cpu);
        Assert.False(unknown.Enabled);
        Assert.Contains("compute capability is not known", unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Bf16_accepts_true_false_and_auto_defaults_to_auto_and_rejects_anything_else()
    {
        Assert.Equal(Bf16Mode.Auto, Parse("").Device.Bf16);
        Assert.Equal(Bf16Mode.True, Parse("device:\n  bf16: true\n").Device.Bf16);
        Assert.Equal(Bf16Mode.False, Parse("device:\n  bf16: false\n").Device.Bf16);
        Assert.Equal(Bf16Mode.Auto, Parse("device:\n  bf16: auto\n").Device.Bf16);
        Assert.Equal(Bf16Mode.True, Parse("", "device.bf16=true").Device.Bf16);
        var error = Assert.Throws<ConfigException>(() => Parse("device:\n  bf16: maybe\n"));
        Assert.Contains("inline.yaml:4", error.Message, StringComparison.Ordinal);
        Assert.Contains("maybe", error.Message, StringComparison.Ordinal);
        // The existing configs' true and false keep working, and a resolved config reads back the same.
        var celeba = ConfigLoader.Load(Path.Combine(ConfigTests.RepositoryRoot(), "configs", "celeba64-ambient-p0.8.yaml"));
        Assert.Equal(Bf16Mode.False, celeba.Device.Bf16);
        Assert.Equal(Bf16Mode.False, ConfigLoader.Parse(ConfigLoader.ToYaml(celeba), "resolved").Device.Bf16);
    }

    [Fact]
    public void Resolving_a_config_replaces_auto_with_the_decision_and_keeps_explicit_values()
    {
        var config = Parse("device:\n  type: cpu\n");
        var decision = ExperimentComposition.ResolvePrecision(config, Cpu("avx512_bf16"));
        Assert.Equal(decision.Enabled ? Bf16Mode.True : Bf16Mode.False, config.Device.Bf16);
        Assert.Contains($"bf16: {(decision.Enabled ? "true" : "false")}", ConfigLoader.ToYaml(config), StringComparison.Ordinal);
        var plain = Parse("device:\n  type: cpu\n");
        Assert.False(ExperimentComposition.ResolvePrecision(plain, Cpu("avx2")).Enabled);
        Assert.Equal(Bf16Mode.False, plain.Device.Bf16);
        var forced = Parse("device:\n  type: cpu\n  bf16: true\n");
        Assert.True(ExperimentComposition.ResolvePrecision(forced, Cpu("avx2")).Enabled);
    }

    [Fact]
    public void The_quickstart_config_loads_and_its_dry_run_shows_the_resolved_precision()
    {
        var path = Path.Combine(ConfigTests.RepositoryRoot(), "configs", "quickstart.yaml");
        Assert.Equal(Bf16Mode.Auto, ConfigLoader.Load(path).Device.Bf16);
        var expected = ExperimentComposition.ResolvePrecision(ConfigLoader.Load(path));
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, CommandRunner.Run(AmbientCli.CreateRoot(), ["train", path, "--dry-run"]));
        }
        finally
        {
            Console.SetOut(console);
        }
        var text = output.ToString();
        Assert.StartsWith($"# precision: {(expected.Enabled ? "bf16 autocast" : "float32")} ({expected.Reason})", text, StringComparison.Ordinal);
        Assert.Contains($"  bf16: {(expected.Enabled ? "true" : "false")}", text, StringComparison.Ordinal);
        // The dry run's output is itself a valid config, with the precision pinned.
        Assert.Equal(expected.Enabled ? Bf16Mode.True : Bf16Mode.False, ConfigLoader.Parse(text, "dry run").Device.Bf16);
    }

    [Fact]
    public void A_run_records_the_resolved_precision_in_its_config_and_checkpoint()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)));
        Assert.Equal(Bf16Mode.Auto, config.Device.Bf16);
        var rule = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, CpuCapabilities.Probe());
        var result = new ExperimentRunner(dir.File("runs")) { TimingCache = new Bf16TimingCache(dir.File("bf16-timings.json")) }.Run(config);
        // Where the CPU has native bf16 the run times both precisions and follows the measurement; elsewhere the rule.
        var recorded = result.Run.ReadInputs().Precision!;
        Assert.Equal(rule.ToMeasure, recorded.Timing is not null);
        var expected = (rule.ToMeasure ? recorded.Enabled : rule.Enabled) ? "true" : "false";
        Assert.Contains($"  bf16: {expected}", File.ReadAllText(result.Run.Config), StringComparison.Ordinal);
        using var checkpoint = Checkpoint.Open(Checkpoint.Latest(result.Run.Checkpoints)!);
        Assert.Contains($"  bf16: {expected}", CheckpointHeader.Read(checkpoint).ResolvedConfig, StringComparison.Ordinal);
    }
}
