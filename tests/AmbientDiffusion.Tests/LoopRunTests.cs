using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Loops;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>Whole loops on tiny data: end to end, resumed after an interruption, fine-tuned, and the ambient arm at σ_tn = 0.</summary>
[Collection("memory")]
public class LoopRunTests
{
    /// <summary>A loop on 24 smooth 8x8 images (8 held out), a 1-block network and 4 training steps per generation.</summary>
    internal static string TinyLoop(TempDir dir, string loop, double p = 0.5, string loss = "ambient", string name = "tiny-loop", double noise = 0) => ExperimentTests.WriteConfig(dir, $"""
        name: {name}
        seed: 1
        data:
          prepared: {ExperimentTests.SmoothPrepared(dir)}
        corruption:
          p: {p}
          noise_sigma: {noise}
          seed: 2
        loss:
          kind: {loss}
        {TinyRunYaml.Model}
        training:
          duration_kimg: 0.032
          batch_size: 8
          lr: 0.001
          lr_warmup_kimg: 0
          ema_halflife_kimg: 0.01
          tick_kimg: 0.008
          checkpoint_kimg: 0.016
        sampling:
          steps: 3
          batch_size: 8
          grid: 8
        evaluation:
          k: 2
        {TinyRunYaml.MemorizationOnCpu}
        loop:
        {loop}
        """, name + ".yaml");

    [Fact]
    public void A_tiny_loop_of_two_generations_runs_end_to_end_and_writes_its_summary()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(TinyLoop(dir, "  type: augment\n  generations: 2\n  synthetic_count: 8\n  real_count: 12"));
        var runner = new LoopRunner(dir.File("runs"));
        var result = runner.Run(config);
        Assert.Equal(2, result.Finished);
        foreach (var k in new[] { 1, 2 })
        {
            var run = result.Layout.Generation(k);
            Assert.True(File.Exists(LoopLayout.Marker(run)), $"generation {k} marker");
            Assert.True(File.Exists(Path.Combine(run.Samples, SampleSet.GridFile)));
            Assert.True(File.Exists(run.ReportFile), $"generation {k} memorization report");
            Assert.True(File.Exists(Path.Combine(run.Evaluation("pixels"), "metrics.json")), $"generation {k} evaluation");
            using var samples = SampleSet.Open(run.SamplesFile);
            Assert.Equal([8L, 1, 8, 8], samples.Info(SampleSet.SamplesKey).Shape);
        }
        using (var second = Corruption.CorruptedDataset.Open(LoopLayout.TrainingData(result.Layout.Generation(2))))
            Assert.Equal(12 + 8, second.Count);
        var rows = LoopSummary.Read(dir.File("runs"));
        Assert.Equal([1, 2], rows.Select(r => r.Generation));
        Assert.All(rows, r => Assert.True(r.Values["fd"] > 0 && r.Values.ContainsKey("recall") && r.Values.ContainsKey("memorized")));
        var csv = File.ReadAllLines(dir.File("runs/loop.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("arm,seed,generation,training_images,fd,kid,precision,recall", csv[0], StringComparison.Ordinal);
        Assert.StartsWith("tiny-loop,1,2,20,", csv[2], StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("runs/loop-fd.png")) && File.Exists(dir.File("runs/loop-recall.svg")) && File.Exists(dir.File("runs/loop.md")));
        // TensorBoard: each generation's own training log, and the loop's metrics against the generation.
        Assert.All(new[] { 1, 2 }, k => Assert.NotEmpty(Directory.GetFiles(result.Layout.Generation(k).TensorBoard, TensorBoard.SummaryWriter.FilePrefix + "*")));
        var board = Path.Combine(LoopBoard.Folder(dir.File("runs"), "tiny-loop", 1), TensorBoard.SummaryWriter.FilePrefix + LoopBoard.FileName);
        Assert.True(File.Exists(board));
        if (TensorBoardTests.PythonHasProtobuf())
        {
            var fd = TensorBoardTests.ReadIndependently(board).Where(r => r.TryGetProperty("values", out _))
                .SelectMany(r => r.GetProperty("values").EnumerateArray().Where(v => v.GetProperty("tag").GetString() == "Loop/fd").Select(v => (r.GetProperty("step").GetInt64(), TensorBoardTests.Float(v))));
            Assert.Equal(rows.Select(r => ((long)r.Generation, (float)r.Values["fd"])), fd);
        }

        // Rerunning skips finished generations.
        var marker = File.GetLastWriteTimeUtc(LoopLayout.Marker(result.Layout.Generation(2)));
        Assert.Equal(2, runner.Run(config).Finished);
        Assert.Equal(marker, File.GetLastWriteTimeUtc(LoopLayout.Marker(result.Layout.Generation(2))));

        // Another loop type in the same folder would mix two loops; more generations extend the loop.
        var changed = ConfigLoader.Load(dir.File("tiny-loop.yaml"), ["loop.type=accumulate"]);
        Assert.Contains("another config", Assert.Throws<ConfigException>(() => runner.Run(changed)).Message, StringComparison.Ordinal);
        var extended = runner.Run(ConfigLoader.Load(dir.File("tiny-loop.yaml"), ["loop.generations=3"]));
        Assert.Equal(3, extended.Finished);
        Assert.Equal(marker, File.GetLastWriteTimeUtc(LoopLayout.Marker(result.Layout.Generation(2))));
    }

    [Fact]
    public void A_loop_killed_during_generation_3_and_rerun_ends_with_the_uninterrupted_loops_metrics()
    {
        using var dir = new TempDir();
        const string loop = "  type: fresh\n  generations: 3\n  synthetic_count: 8\n  real_count: 8\n  retrain: finetune";
        var config = ConfigLoader.Load(TinyLoop(dir, loop));
        var straight = new LoopRunner(dir.File("straight")).Run(config);
        Assert.Equal(3, straight.Finished);

        // Cancel as soon as generation 3 reports training progress: it stops after one step, with a checkpoint.
        var interruptedConfig = ConfigLoader.Load(dir.File("tiny-loop.yaml"));
        using var cancel = new CancellationTokenSource();
        var runner = new LoopRunner(dir.File("interrupted"));
        var first = runner.Run(interruptedConfig, new Common.ProgressRelay<LoopProgress>(p =>
        {
            if (p.Generation == 3 && p.Stage.Stage == "train") cancel.Cancel();
        }), cancel.Token);
        Assert.Equal(2, first.Finished);
        var third = first.Layout.Generation(3);
        Assert.False(File.Exists(LoopLayout.Marker(third)));
        Assert.NotNull(Checkpoint.Latest(third.Checkpoints));
        Assert.False(File.Exists(third.SamplesFile));

        var resumed = runner.Run(ConfigLoader.Load(dir.File("tiny-loop.yaml")));
        Assert.Equal(3, resumed.Finished);
        Assert.Equal(File.ReadAllBytes(straight.Layout.Generation(3).SamplesFile.Replace(".safetensors", ".npz", StringComparison.Ordinal)),
            File.ReadAllBytes(third.SamplesFile.Replace(".safetensors", ".npz", StringComparison.Ordinal)));
        var expected = LoopSummary.Read(dir.File("straight")).Single(r => r.Generation == 3).Values;
        var actual = LoopSummary.Read(dir.File("interrupted")).Single(r => r.Generation == 3).Values;
        Assert.Equal(expected, actual);

        // A lost marker redoes only what is missing: the finished training and samples are kept.
        var checkpoints = Directory.GetFiles(third.Checkpoints).Length;
        var samplesTime = File.GetLastWriteTimeUtc(third.SamplesFile);
        File.Delete(LoopLayout.Marker(third));
        Assert.Equal(3, runner.Run(ConfigLoader.Load(dir.File("tiny-loop.yaml"))).Finished);
        Assert.Equal(checkpoints, Directory.GetFiles(third.Checkpoints).Length);
        Assert.Equal(samplesTime, File.GetLastWriteTimeUtc(third.SamplesFile));
        Assert.Equal(expected, LoopSummary.Read(dir.File("interrupted")).Single(r => r.Generation == 3).Values);
    }

    [Fact]
    public void The_ambient_arm_with_sigma_tn_zero_equals_plain_augment_bitwise()
    {
        using var dir = new TempDir();
        const string loop = "  type: augment\n  generations: 2\n  synthetic_count: 8\n  real_count: 12";
        var runner = new LoopRunner(dir.File("runs"));
        var plain = runner.Run(ConfigLoader.Load(TinyLoop(dir, loop, p: 0, loss: "edm", name: "arm-plain")));
        var ambient = runner.Run(ConfigLoader.Load(TinyLoop(dir, loop + "\n  synthetic_as: noisy\n  sigma_tn: 0", p: 0, loss: "edm", name: "arm-ambient")));
        var (a, b) = (plain.Layout.Generation(2), ambient.Layout.Generation(2));
        // The arm really trained with the Tweedie loss and Ambient-Omni's floor…
        using (var file = Checkpoint.Open(Checkpoint.Latest(b.Checkpoints)!))
        {
            var header = CheckpointHeader.Read(file);
            Assert.Equal(Diffusion.LossKind.Tweedie, header.Loss.Kind);
            Assert.Equal(LoopSettings.SigmaFloorFactor, header.Loss.SigmaFloorFactor);
        }
        // …and still drew exactly the plain arm's numbers: same weights, same samples.
        Assert.Equal(Weights(a), Weights(b));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Samples, SampleSet.NumpyFile)), File.ReadAllBytes(Path.Combine(b.Samples, SampleSet.NumpyFile)));

        // Two arms in one runs folder: one summary, one line per arm, named without their common prefix.
        Assert.Equal(["arm-ambient", "arm-plain"], LoopSummary.Read(dir.File("runs")).Select(r => r.Arm).Distinct().Order(StringComparer.Ordinal));
        var chart = File.ReadAllText(dir.File("runs/loop-fd.svg"));
        Assert.Contains(">ambient<", chart, StringComparison.Ordinal);
        Assert.Contains(">plain<", chart, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ambient_arm_with_estimated_sigma_tn_trains_on_noisy_synthetic_images_and_samples_plainly()
    {
        using var dir = new TempDir();
        const string loop = "  type: accumulate\n  generations: 3\n  synthetic_count: 8\n  real_count: 12\n  synthetic_as: noisy\n  sigma_tn_estimate: true";
        var result = new LoopRunner(dir.File("runs")).Run(ConfigLoader.Load(TinyLoop(dir, loop, p: 0, loss: "edm")));
        Assert.Equal(3, result.Finished);
        var levels = SigmaTnFile.Read(LoopLayout.SigmaTn(result.Layout.Generation(1)))!;
        Assert.Equal(8, levels.Length);
        Assert.All(levels, v => Assert.Contains(v, new SigmaTnEstimatorOptions().Grid.Select(g => (float)g)));
        using (var data = Corruption.CorruptedDataset.Open(LoopLayout.TrainingData(result.Layout.Generation(3))))
        {
            // Real images first (clean), then generation 1's and generation 2's synthetic sets, each image at its own σ_tn.
            Assert.Equal(12 + 8 + 8, data.Count);
            Assert.All(Enumerable.Range(0, 12), i => Assert.Equal(0f, data.NoiseSigma(i)));
            Assert.Equal(levels, Enumerable.Range(12, 8).Select(data.NoiseSigma));
            Assert.Equal(SigmaTnFile.Read(LoopLayout.SigmaTn(result.Layout.Generation(2))), Enumerable.Range(20, 8).Select(data.NoiseSigma));
        }
        using var samples = SampleSet.Open(result.Layout.Generation(3).SamplesFile);
        // Clean real images taught the network every σ: no early stop at σ_tn.
        Assert.Equal("plain", samples.Metadata["sampler"]);
    }

    [Fact]
    public void A_loop_of_tweedie_models_trains_on_noisy_real_images_beside_clean_synthetic_ones()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(TinyLoop(dir, "  type: augment\n  generations: 2\n  synthetic_count: 8\n  real_count: 12", p: 0, loss: "tweedie", noise: 0.2));
        var result = new LoopRunner(dir.File("runs")).Run(config);
        Assert.Equal(2, result.Finished);
        using (var data = Corruption.CorruptedDataset.Open(LoopLayout.TrainingData(result.Layout.Generation(2))))
        {
            Assert.Equal(ScalarType.Float16, data.ObservationType);
            Assert.All(Enumerable.Range(0, 12), i => Assert.Equal(0.2f, data.NoiseSigma(i)));
            Assert.All(Enumerable.Range(12, 8), i => Assert.Equal(0f, data.NoiseSigma(i)));
        }
        // The generation's memorization compares with its own clean training set: the real images before the noise.
        using var clean = Data.PreparedDataset.Open(LoopLayout.CleanTrainingData(result.Layout.Generation(2)));
        using var original = Data.PreparedDataset.Open(ExperimentTests.SmoothPrepared(dir));
        var plan = new LoopComposition(config.Loop!, 24, config.Seed).Plan(2);
        Assert.Equal(original.Images()[plan.RealIndices[0]].contiguous().data<byte>(), clean.Images()[0].contiguous().data<byte>());
        Assert.True(File.Exists(result.Layout.Generation(2).ReportFile));
    }

    [Fact]
    public void A_class_conditional_loop_scores_each_generations_samples_by_CAS()
    {
        using var dir = new TempDir();
        // Two classes of 8x8 grey images, dark and light, as a labelled prepared dataset and as real train/test folders.
        var random = new Random(3);
        byte[] Image(int label) => Enumerable.Range(0, 64).Select(_ => (byte)(label * 150 + random.Next(80))).ToArray();
        var labels = Enumerable.Range(0, 32).Select(i => (long)(i % 2)).ToArray();
        var prepared = dir.File("labelled.safetensors");
        using (var scope = torch.NewDisposeScope())
        {
            var images = torch.tensor(labels.SelectMany(l => Image((int)l)).ToArray(), [32, 1, 8, 8]);
            Data.PreparedDataset.Write(prepared, images.narrow(0, 0, 24), images.narrow(0, 24, 8), new { Source = "test" },
                new Data.DatasetLabels(labels[..24], labels[24..], ["dark", "light"]));
        }
        foreach (var split in new[] { "train", "test" })
            for (var i = 0; i < 16; i++)
                Fixtures.WriteImage(dir.File($"{split}/{(i % 2 == 0 ? "dark" : "light")}/{i}.png"), Image(i % 2), 8, 8, 1);
        var yaml = File.ReadAllText(TinyLoop(dir, $"  type: augment\n  generations: 1\n  synthetic_count: 8\n  real_count: 12\n  cas_test: {dir.File("test")}\n  cas_train: {dir.File("train")}"))
            .Replace(ExperimentTests.SmoothPrepared(dir), prepared, StringComparison.Ordinal);
        var config = ConfigLoader.Parse(yaml, "cas loop");
        var result = new LoopRunner(dir.File("runs")).Run(config);
        Assert.Equal(1, result.Finished);
        var cas = LoopCas.Read(result.Layout.Generation(1));
        Assert.NotNull(cas);
        Assert.InRange(cas.Value.Cas, 0, 1);
        var row = LoopSummary.Read(dir.File("runs")).Single();
        Assert.Equal(cas.Value.Cas, row.Values["cas"]);
        Assert.Contains(",cas,cas_over_real", File.ReadAllLines(dir.File("runs/loop.csv"))[0], StringComparison.Ordinal);
    }

    [Fact]
    public void The_loop_command_runs_a_loop_and_refuses_a_config_without_a_loop_section()
    {
        using var dir = new TempDir();
        var config = TinyLoop(dir, "  type: fully_synthetic\n  generations: 2\n  synthetic_count: 8\n  real_count: 12");
        var runs = dir.File("runs");
        Assert.Equal(0, Ambient("loop", config, "--runs", runs, "--dry-run"));
        Assert.False(Directory.Exists(runs));
        Assert.Equal(0, Ambient("loop", config, "--runs", runs));
        Assert.True(File.Exists(Path.Combine(runs, "loop.md")));
        Assert.True(File.Exists(LoopLayout.Marker(new LoopLayout(Path.Combine(runs, "tiny-loop", "seed-1")).Generation(2))));
        Assert.NotEqual(0, Ambient("loop", ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)), "--runs", runs));

        // Guidance on the unlabelled data's unconditional model is refused before anything trains.
        var error = Assert.Throws<ConfigException>(() => new LoopRunner(dir.File("guided")).Run(ConfigLoader.Load(config, ["loop.guidance=2"])));
        Assert.Equal("loop.guidance", error.Key);
        Assert.False(Directory.Exists(dir.File("guided/tiny-loop/seed-1/gen-01")));
    }

    private static int Ambient(params string[] args) => Cli.CommandRunner.Run(Cli.AmbientCli.CreateRoot(), args);

    private static float[] Weights(RunDirectory run)
    {
        using var scope = torch.NewDisposeScope();
        using var file = Checkpoint.Open(Checkpoint.Latest(run.Checkpoints)!);
        return file.Keys.Where(k => k.StartsWith(Checkpoint.ModelPrefix, StringComparison.Ordinal) || k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).SelectMany(k => file.GetTensor(k).flatten().data<float>()).ToArray();
    }
}
