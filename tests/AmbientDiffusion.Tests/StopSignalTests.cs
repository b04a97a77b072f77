using System.Text.Json;
using System.Text.RegularExpressions;
using AmbientDiffusion.Config;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>SIGTERM (what SLURM, Kubernetes and `timeout` send first) sent for real to `ambient` child processes: the
/// run stops at a step boundary with a checkpoint, exits 143, and `--resume` continues exactly.</summary>
[Collection("memory")]
public partial class StopSignalTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Steps = 40; // global batch 8

    /// <summary>The tiny data-parallel test network on 32 masked 8×8 images; a metrics line every step, no periodic
    /// checkpoint (the only one is the one the signal asks for), no sampling or memorization.</summary>
    private static string WriteConfig(TempDir dir, string sweep = "")
    {
        var config = DistributedTrainerTests.Config(DistributedTrainerTests.MaskedData(dir), globalBatch: 8);
        config.Training = config.Training with { DurationKimg = Steps * 8 / 1000.0, CheckpointKimg = 1000, TickKimg = 0.008 };
        config.Memorization.Enabled = false;
        var path = dir.File("dist.yaml");
        File.WriteAllText(path, ConfigLoader.ToYaml(config) + sweep);
        return path;
    }

    private static int MetricsLines(string run) => File.Exists(Path.Combine(run, "metrics.jsonl")) ? File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length : 0;

    private static long LastMetricsStep(string run) =>
        JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1]).RootElement.GetProperty("step").GetInt64();

    private static float[] FinalWeights(string run)
    {
        var latest = Checkpoint.Latest(Path.Combine(run, "checkpoints")) ?? throw new InvalidOperationException($"no checkpoint in {run}");
        using var file = Checkpoint.Open(latest);
        using var scope = torch.NewDisposeScope();
        return file.Keys.Where(k => k.StartsWith(Checkpoint.ModelPrefix, StringComparison.Ordinal) || k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).SelectMany(k => file.GetTensor(k).reshape(-1).data<float>()).ToArray();
    }

    private static long CheckpointStep(string path)
    {
        using var file = Checkpoint.Open(path);
        return long.Parse(file.Metadata["step"], System.Globalization.CultureInfo.InvariantCulture);
    }

    private int Finish(AmbientProcess ambient, int seconds = 120)
    {
        var code = ambient.Wait(TimeSpan.FromSeconds(seconds));
        output.WriteLine(ambient.Output);
        return code;
    }

    [Fact]
    public void Sigterm_stops_train_at_a_step_with_its_checkpoint_exits_143_and_resume_ends_on_the_uninterrupted_weights()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir);
        var straight = Path.Combine(dir.File("straight"), "dist");
        using (var ambient = new AmbientProcess(["train", config, "--runs", dir.File("straight")]))
            Assert.Equal(0, Finish(ambient));

        var stopped = Path.Combine(dir.File("stopped"), "dist");
        using (var ambient = new AmbientProcess(["train", config, "--runs", dir.File("stopped")]))
        {
            ambient.WaitUntil(() => MetricsLines(stopped) >= 2, TimeSpan.FromSeconds(90), "two steps trained");
            // Twice at once, as SLURM does when it signals the job step and srun forwards the same signal: one stop.
            ambient.Signal(AmbientProcess.Sigterm);
            ambient.Signal(AmbientProcess.Sigterm);
            Assert.Equal(143, Finish(ambient));
            Assert.Contains("SIGTERM: stopping after this step", ambient.Flat);
            Assert.Contains("checkpoint saved in", ambient.Flat);
        }
        // One checkpoint, written at the step training stopped (every step wrote its metrics line), before the end.
        var checkpoint = Assert.Single(Directory.GetFiles(Path.Combine(stopped, "checkpoints")));
        var step = CheckpointStep(checkpoint);
        Assert.Equal(LastMetricsStep(stopped), step);
        Assert.InRange(step, 2, Steps - 1);

        using (var ambient = new AmbientProcess(["train", config, "--runs", dir.File("stopped"), "--resume"]))
            Assert.Equal(0, Finish(ambient));
        Assert.Equal(Steps, CheckpointStep(Checkpoint.Latest(Path.Combine(stopped, "checkpoints"))!));
        Assert.Equal(FinalWeights(straight), FinalWeights(stopped));
    }

    [Fact]
    public void Sigterm_to_launch_stops_every_rank_after_the_same_step_with_143_and_the_job_resumes_to_the_end()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir);
        var run = Path.Combine(dir.File("runs"), "dist");
        using (var ambient = new AmbientProcess(["launch", "--nproc", "2", "--all-output", "--", "train", config, "--runs", dir.File("runs")]))
        {
            ambient.WaitUntil(() => MetricsLines(run) >= 2, TimeSpan.FromSeconds(90), "two steps trained");
            ambient.Signal(AmbientProcess.Sigterm);
            Assert.Equal(143, Finish(ambient));
            // Each rank reports where it stopped; they agreed on one step.
            var stops = StoppedAt().Matches(ambient.Flat).Select(m => (Rank: m.Groups[1].Value, Kimg: m.Groups[2].Value)).ToList();
            Assert.Equal(["0", "1"], stops.Select(s => s.Rank).Order());
            Assert.Single(stops.Select(s => s.Kimg).Distinct());
        }
        var checkpoint = Assert.Single(Directory.GetFiles(Path.Combine(run, "checkpoints")));
        using (var file = Checkpoint.Open(checkpoint))
        {
            Assert.Equal("2", file.Metadata[DataParallel.WorldSizeKey]);
            Assert.Equal(LastMetricsStep(run), long.Parse(file.Metadata["step"], System.Globalization.CultureInfo.InvariantCulture));
        }
        using (var ambient = new AmbientProcess(["launch", "--nproc", "2", "--", "train", config, "--runs", dir.File("runs"), "--resume"]))
            Assert.Equal(0, Finish(ambient));
        Assert.Equal(Steps, CheckpointStep(Checkpoint.Latest(Path.Combine(run, "checkpoints"))!));
    }

    [Fact]
    public void Sigterm_stops_a_sweep_in_its_current_run_with_a_checkpoint_and_rerunning_it_finishes_every_run()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir, "sweep:\n  grid:\n    training.lr: [0.001, 0.002]\n");
        var first = Path.Combine(dir.File("runs"), "dist", "lr=0.001");
        using (var ambient = new AmbientProcess(["sweep", config, "--runs", dir.File("runs")]))
        {
            ambient.WaitUntil(() => MetricsLines(first) >= 2, TimeSpan.FromSeconds(90), "two steps trained");
            ambient.Signal(AmbientProcess.Sigterm);
            Assert.Equal(143, Finish(ambient));
        }
        Assert.InRange(CheckpointStep(Assert.Single(Directory.GetFiles(Path.Combine(first, "checkpoints")))), 2, Steps - 1);
        Assert.False(File.Exists(Path.Combine(first, "done.json")));
        Assert.Contains(",pending,", File.ReadAllText(Path.Combine(dir.File("runs"), "dist", "summary.csv")), StringComparison.Ordinal);

        using (var ambient = new AmbientProcess(["sweep", config, "--runs", dir.File("runs")]))
            Assert.Equal(0, Finish(ambient, 180));
        foreach (var label in new[] { "lr=0.001", "lr=0.002" })
        {
            var run = Path.Combine(dir.File("runs"), "dist", label);
            Assert.True(File.Exists(Path.Combine(run, "done.json")), $"{label} is not done");
            Assert.Equal(Steps, CheckpointStep(Checkpoint.Latest(Path.Combine(run, "checkpoints"))!));
        }
    }

    // The console colours the line when the worker's output is redirected: an escape code may precede the text.
    [GeneratedRegex(@"\[rank (\d)\] (?:\x1b\[[0-9;]*m)?stopped at ([0-9.]+) kimg")]
    private static partial Regex StoppedAt();
}
