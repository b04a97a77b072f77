using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary><c>device.bf16: auto</c> by measurement: the decision from timings, the timing cache and its key, and a
/// probe that leaves the run's training untouched. None of them depends on which precision this machine finds faster.</summary>
[Collection("memory")]
public class Bf16MeasurementTests
{
    private static CpuCapabilities Cpu(string model, string flags) => CpuCapabilities.FromCpuInfo($"model name\t: {model}\nflags\t\t: {flags}\n", "test");

    [Fact]
    public void The_measured_decision_takes_bf16_only_when_it_is_clearly_faster_and_says_both_timings()
    {
        var faster = Bf16Decision.Measured(new Bf16Timing(0.200, 0.104, 3), "Xeon X");
        Assert.True(faster.Enabled);
        Assert.Contains("104 ms under bf16 autocast and 200 ms in float32 (0.52x", faster.Reason, StringComparison.Ordinal);
        Assert.Contains("Xeon X", faster.Reason, StringComparison.Ordinal);
        Assert.Equal(0.104, faster.Timing!.Bf16StepSeconds);
        // The CPU: AVX512-BF16 without AMX, bf16 at 1.08x float32's time.
        Assert.False(Bf16Decision.Measured(new Bf16Timing(0.100, 0.108, 3), "Xeon Y").Enabled);
        // A tie within the scatter of a few steps goes to float32, the reference precision.
        Assert.False(Bf16Decision.Measured(new Bf16Timing(0.100, 0.096, 3), "Xeon Y").Enabled);
        Assert.Contains("cached", Bf16Decision.Measured(new Bf16Timing(0.2, 0.1, 3, FromCache: true), "Xeon X").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_auto_on_a_cpu_with_native_bf16_asks_for_a_measurement()
    {
        Assert.True(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, Cpu("Xeon", "avx2 avx512_bf16")).ToMeasure);
        var emulated = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, Cpu("AMD EPYC", "avx2"));
        Assert.False(emulated.ToMeasure);
        Assert.Contains("nothing was measured", emulated.Reason, StringComparison.Ordinal);
        Assert.False(Bf16Decision.Decide(Bf16Mode.True, Torch.DeviceType.CPU, Cpu("Xeon", "avx512_bf16")).ToMeasure);
        Assert.False(Bf16Decision.Decide(Bf16Mode.False, Torch.DeviceType.CPU, Cpu("Xeon", "avx512_bf16")).ToMeasure);
        Assert.False(Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CUDA, Cpu("Xeon", "avx512_bf16"), cudaMajor: 9).ToMeasure);
    }

    [Fact]
    public void The_cache_keys_timings_by_cpu_model_threads_and_network_and_recalls_them_marked_as_cached()
    {
        using var dir = new TempDir();
        var cache = new Bf16TimingCache(dir.File("sub/bf16-timings.json"));
        var xeon = Cpu("Intel(R) Xeon(R) Platinum 8480+", "avx512_bf16 amx_bf16");
        var key = Bf16TimingCache.Key(xeon, 2, "network: A");
        Assert.Contains("Platinum 8480+", key, StringComparison.Ordinal);
        Assert.Contains("avx512_bf16 amx_bf16", key, StringComparison.Ordinal);
        Assert.Null(cache.Find(key));
        cache.Store(key, new Bf16Timing(0.3, 0.2, 3));
        Assert.Equal(new Bf16Timing(0.3, 0.2, 3, FromCache: true), cache.Find(key));
        Assert.Equal(new Bf16Timing(0.3, 0.2, 3, FromCache: true), new Bf16TimingCache(cache.Path).Find(key));
        Assert.Null(cache.Find(Bf16TimingCache.Key(xeon, 4, "network: A")));
        Assert.Null(cache.Find(Bf16TimingCache.Key(xeon, 2, "network: B")));
        Assert.Null(cache.Find(Bf16TimingCache.Key(Cpu("Intel(R) Xeon(R) Gold 6430", "avx512_bf16 amx_bf16"), 2, "network: A")));
        // The file explains itself (the key in words), and a damaged file is an empty cache, not an error.
        Assert.Contains("Platinum 8480+", File.ReadAllText(cache.Path), StringComparison.Ordinal);
        File.WriteAllText(cache.Path, "{ not json");
        Assert.Null(cache.Find(key));
        cache.Store(key, new Bf16Timing(0.3, 0.2, 3));
        Assert.NotNull(cache.Find(key));
    }

    [Fact]
    public void The_cpu_model_name_is_read_from_cpuinfo()
    {
        Assert.Equal("AMD EPYC 7B13", CpuCapabilities.FromCpuInfo("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: avx2\n").ModelName);
        Assert.Equal("unknown CPU", CpuCapabilities.FromCpuInfo("flags\t\t: avx2\n").ModelName);
    }

    [Fact]
    public void The_probe_leaves_training_bitwise_unchanged_and_its_second_call_is_recalled_from_the_cache()
    {
        using var dir = new TempDir();
        var corrupted = ConditionalData.Corrupted(dir, Fixtures.PreparedDataset(dir, 16, 1, 8), new PixelMask(0.3));
        ExperimentConfig Config()
        {
            var config = ConditionalData.Config(LossKind.Ambient);
            config.Data = new DataSection { Corrupted = corrupted };
            config.Device = new DeviceSettings { Type = "cpu", Bf16 = Bf16Mode.False };
            return config;
        }
        float[] TrainTwoSteps(string run)
        {
            using var trainer = ExperimentComposition.StartTrainer(Config(), dir.File(run));
            trainer.TrainStep();
            trainer.TrainStep();
            return trainer.FlatWeights.data<float>().ToArray();
        }
        var straight = TrainTwoSteps("straight");

        // A CPU said to have native bf16 makes auto's rule ask for a measurement, whatever this machine has.
        var cpu = Cpu("Test CPU", "avx512_bf16");
        var cache = new Bf16TimingCache(dir.File("bf16-timings.json"));
        var config = Config();
        var rule = Bf16Decision.Decide(Bf16Mode.Auto, Torch.DeviceType.CPU, cpu);
        var measured = ExperimentComposition.MeasurePrecision(config, new RunDirectory(dir.File("probed")), corrupted, rule, cache, cpu);
        Assert.Equal(measured.Enabled ? Bf16Mode.True : Bf16Mode.False, config.Device.Bf16);
        Assert.False(measured.Timing!.FromCache);
        Assert.True(measured.Timing.Float32StepSeconds > 0 && measured.Timing.Bf16StepSeconds > 0);
        Assert.Equal(Bf16Probe.TimedSteps, measured.Timing.Steps);
        Assert.False(Directory.Exists(new RunDirectory(dir.File("probed")).Checkpoints), "the probe writes nothing into the run");

        var recalled = ExperimentComposition.MeasurePrecision(Config(), new RunDirectory(dir.File("probed")), corrupted, rule, cache, cpu);
        Assert.Equal(measured.Timing with { FromCache = true }, recalled.Timing);
        Assert.Equal(measured.Enabled, recalled.Enabled);
        Assert.Contains("cached", recalled.Reason, StringComparison.Ordinal);

        // The same steps after the probe ran give the same bits.
        Assert.Equal(straight, TrainTwoSteps("after-probe"));
        // A decided precision is returned as it is and measures nothing.
        var forced = Bf16Decision.Decide(Bf16Mode.False, Torch.DeviceType.CPU, cpu);
        Assert.Same(forced, ExperimentComposition.MeasurePrecision(Config(), new RunDirectory(dir.File("forced")), corrupted, forced, cache, cpu));
    }
}
