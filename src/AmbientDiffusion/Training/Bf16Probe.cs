using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Training;

/// <summary>
/// Times training steps in float32 and under bf16 autocast on a run's own network, loss and batch, for
/// <c>device.bf16: auto</c> on a CPU with native bf16. The steps run on a throwaway trainer (its own freshly
/// initialised network, optimizer, data loader and generators, a temporary folder for its files), so the run's
/// weights, optimizer and random streams are untouched: every stream is keyed by (seed, position) and owned per
/// trainer, and the probe is disposed before the run's trainer starts. Exact resume and determinism stay bitwise.
/// </summary>
public static class Bf16Probe
{
    /// <summary>Timed steps each way, interleaved (after one untimed warm-up step each way).</summary>
    public const int TimedSteps = 3;

    /// <summary>The timings for <paramref name="setup"/> on <paramref name="dataPath"/>: recalled from
    /// <paramref name="cache"/> when it holds this CPU, thread count and network shape, else measured (and stored).</summary>
    public static Bf16Timing MeasureOrRecall(TrainerSetup setup, string dataPath, CpuCapabilities cpu, Bf16TimingCache? cache)
    {
        var folder = Directory.CreateTempSubdirectory("ambient-bf16-probe-").FullName;
        try
        {
            using var trainer = Trainer.Start(ProbeSetup(setup, folder), dataPath);
            var key = Bf16TimingCache.Key(cpu, torch.get_num_threads(), Shape(setup, trainer));
            if (cache?.Find(key) is { } cached) return cached;
            var timing = Measure(trainer);
            cache?.Store(key, timing);
            return timing;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* a temporary folder left behind is harmless */ }
        }
    }

    /// <summary>Median step seconds each way on <paramref name="trainer"/>, whose state the steps change (a probe's own).</summary>
    internal static Bf16Timing Measure(Trainer trainer)
    {
        var (float32, bf16) = (new List<double>(), new List<double>());
        // Interleaved, so that a slower or faster spell of a shared machine falls on both; the first pair warms up
        // oneDNN's kernels for each precision and is not counted.
        for (var i = 0; i <= TimedSteps; i++)
        {
            var f = TimeStep(trainer, bf16: false);
            var b = TimeStep(trainer, bf16: true);
            if (i == 0) continue;
            float32.Add(f);
            bf16.Add(b);
        }
        return new Bf16Timing(Median(float32), Median(bf16), TimedSteps);
    }

    // A skipped (non-finite) step still takes its forward and backward pass: its time counts like any other.
    private static double TimeStep(Trainer trainer, bool bf16)
    {
        trainer.UseBf16 = bf16;
        var clock = Stopwatch.StartNew();
        trainer.TrainStep();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    // What a step's cost depends on besides the CPU: the network (its geometry, widths, depth, attention and
    // parameter count), the loss and the batch.
    private static string Shape(TrainerSetup setup, Trainer trainer)
    {
        var m = setup.Model;
        var net = trainer.Model.Network;
        return string.Create(CultureInfo.InvariantCulture,
            $"network: {net.ImageChannels}+{net.MaskChannels}x{net.Resolution}x{net.Resolution}, labels {net.LabelDim}, channels {m.ModelChannels} x [{string.Join(",", m.ChannelMult)}], blocks {m.NumBlocks}, attention at [{string.Join(",", m.AttnResolutions)}], gated {m.Gated}, {trainer.Model.parameter_count()} parameters; loss: {setup.Loss.Kind}; batch: {setup.Training.BatchSize}x{setup.Training.Accumulation}; device: {trainer.Device}");
    }

    private static TrainerSetup ProbeSetup(TrainerSetup setup, string folder) => setup with
    {
        Parallel = DataParallel.Single,
        Device = setup.Device with { Bf16 = Bf16Mode.False },
        CheckpointDirectory = Path.Combine(folder, "checkpoints"),
        MetricsFile = Path.Combine(folder, "metrics.jsonl"),
    };
}
