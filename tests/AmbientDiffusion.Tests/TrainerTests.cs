using AmbientDiffusion.Common;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

[Collection("memory")]
public class TrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static ExperimentConfig Config(string data, string kind = "ambient", int batch = 8, bool bf16 = false) => new()
    {
        Name = "test",
        Seed = 3,
        Device = new DeviceSettings { Type = "cpu", Bf16 = bf16 ? Bf16Mode.True : Bf16Mode.False },
        Data = new DataSection { Corrupted = data },
        Model = new ModelSettings { ModelChannels = 16, ChannelMult = [1, 2], NumBlocks = 1, AttnResolutions = [4], Dropout = 0.1 },
        Loss = new LossSettings { Kind = Enum.Parse<LossKind>(kind, ignoreCase: true), Delta = 0.1 },
        Training = new TrainingSettings { BatchSize = batch, DurationKimg = 1, Lr = 1e-3, LrWarmupKimg = 0.05, EmaHalflifeKimg = 0.1, TickKimg = 1000, CheckpointKimg = 1000 },
    };

    private static string MaskedData(TempDir dir, int count = 24, int size = 8, string name = "masked.safetensors")
    {
        var prepared = Fixtures.PreparedDataset(dir, count, 1, size, name: "clean-" + name);
        using var source = AmbientDiffusion.Data.PreparedDataset.Open(prepared);
        var path = dir.File(name);
        DatasetCorruptor.Run(source, new PixelMask(0.5), 7, path);
        return path;
    }

    private static float[] Weights(Trainer trainer) => trainer.FlatWeights.data<float>();

    [Fact]
    public void Values_at_masked_positions_never_influence_training()
    {
        using var dir = new TempDir();
        var original = MaskedData(dir);
        // A second artifact that differs only where the masks removed pixels: fill those with other values.
        var tampered = dir.File("tampered.safetensors");
        using (var file = SafeTensors.Open(original))
        using (var scope = torch.NewDisposeScope())
        {
            var observations = file.GetTensor(CorruptedDataset.ObservationsKey);
            var masks = file.GetTensor(CorruptedDataset.MasksKey);
            var noise = torch.randint(1, 255, observations.shape, ScalarType.Byte, generator: new Generator(1));
            var changed = torch.where(masks.eq(0), noise, observations);
            Assert.True(changed.ne(observations).any().item<bool>());
            SafeTensors.Save(tampered, new List<KeyValuePair<string, Tensor>>
            {
                new(CorruptedDataset.ObservationsKey, changed),
                new(CorruptedDataset.MasksKey, masks),
                new(CorruptedDataset.NoiseSigmaKey, file.GetTensor(CorruptedDataset.NoiseSigmaKey)),
            }, file.Metadata.ToDictionary(k => k.Key, k => k.Value));
        }
        float[] Train(string data, string name)
        {
            using var trainer = ExperimentComposition.StartTrainer(Config(data), Path.Combine(dir.Path, name));
            for (var i = 0; i < 20; i++) trainer.TrainStep();
            return Weights(trainer);
        }
        Assert.Equal(Train(original, "a"), Train(tampered, "b"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // CPU bf16 autocast is as deterministic as float32
    public void Resuming_from_a_checkpoint_equals_training_straight_through(bool bf16)
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        ExperimentConfig Config(string path) => TrainerTests.Config(path, bf16: bf16);
        const int n = 6;
        float[] straight, straightEma;
        using (var trainer = ExperimentComposition.StartTrainer(Config(data), Path.Combine(dir.Path, "straight")))
        {
            for (var i = 0; i < 2 * n; i++) trainer.TrainStep();
            (straight, straightEma) = (Weights(trainer), trainer.FlatEmaWeights!.data<float>());
        }
        var run = Path.Combine(dir.Path, "resumed");
        using (var first = ExperimentComposition.StartTrainer(Config(data), run))
        {
            for (var i = 0; i < n; i++) first.TrainStep();
            first.SaveCheckpoint();
            // Steps after the checkpoint are lost, as when a run is killed.
            first.TrainStep();
        }
        using var resumed = ExperimentComposition.ResumeTrainer(Config(data), run);
        Assert.Equal(n, resumed.Step);
        for (var i = 0; i < n; i++) resumed.TrainStep();
        Assert.Equal(straight, Weights(resumed));
        Assert.Equal(straightEma, resumed.FlatEmaWeights!.data<float>());
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // bf16 autocast on the CPU learns as well
    public void Loss_falls_at_least_fivefold_when_overfitting_eight_images(bool bf16)
    {
        using var dir = new TempDir();
        // Eight clean, structured images (random 2x2 fields blown up to 8x8), a mask that removes nothing, and the
        // EDM loss: the network can memorise them.
        var prepared = dir.File("eight.safetensors");
        var random = new Random(5);
        var pixels = new byte[8 * 64];
        for (var i = 0; i < 8; i++)
        {
            var field = new byte[4];
            random.NextBytes(field);
            for (var p = 0; p < 64; p++) pixels[i * 64 + p] = field[(p / 8 / 4) * 2 + p % 8 / 4];
        }
        using (var scope = torch.NewDisposeScope())
            AmbientDiffusion.Data.PreparedDataset.Write(prepared, torch.tensor(pixels, [8, 1, 8, 8]), null, new { Source = "eight" });
        var data = dir.File("eight-clean.safetensors");
        using (var source = AmbientDiffusion.Data.PreparedDataset.Open(prepared))
            DatasetCorruptor.Run(source, new PixelMask(0), 0, data);
        var config = Config(data, "edm", batch: 8, bf16: bf16);
        config.Model = config.Model with { Dropout = 0 };
        config.Data.Flip = false;
        config.Training = config.Training with { Lr = 3e-3 };
        using var trainer = ExperimentComposition.StartTrainer(config, Path.Combine(dir.Path, "overfit"));
        // The training loss is dominated by which σ each step draws, and at large σ even a perfect model of eight
        // images keeps an irreducible error. Memorisation shows at small and moderate noise: evaluate λ(σ)‖D − y‖² there,
        // on fixed noise.
        double Evaluate()
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            using var corrupted = CorruptedDataset.Open(data);
            var y = new float[8 * 64];
            var m = new float[8 * 64];
            for (var i = 0; i < 8; i++) corrupted.ReadSample(i, y.AsSpan(i * 64, 64), m.AsSpan(i * 64, 64));
            var clean = torch.tensor(y, [8, 1, 8, 8]);
            using var draws = new Generator(123);
            trainer.Model.eval();
            var total = new[] { 0.05, 0.2, 0.5 }.Average(sigma =>
            {
                var s = torch.full([8], sigma);
                var denoised = trainer.Model.forward(clean + torch.randn_like(clean, draws) * sigma, s);
                return (trainer.Model.LossWeight(s).reshape(-1, 1, 1, 1) * (denoised - clean).square()).sum().item<double>() / 8;
            });
            trainer.Model.train();
            return total;
        }
        var before = Evaluate();
        for (var i = 0; i < 600; i++) trainer.TrainStep();
        var after = Evaluate();
        output.WriteLine($"λ-weighted denoising error at σ = 0.05, 0.2, 0.5: {before:F2} before, {after:F2} after 600 steps ({before / after:F1}x)");
        Assert.True(after * 5 < before, $"loss on fixed draws went from {before:F2} to {after:F2}");
    }

    [Fact]
    public void Training_steps_keep_live_tensors_and_memory_flat()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        using var trainer = ExperimentComposition.StartTrainer(Config(data), Path.Combine(dir.Path, "memory"));
        for (var i = 0; i < 50; i++) trainer.TrainStep();
        var baseline = torch.live_tensors;
        GC.Collect();
        var rss = ResidentBytes();
        for (var i = 0; i < 500; i++)
        {
            trainer.TrainStep();
            Assert.Equal(baseline, torch.live_tensors);
        }
        GC.Collect();
        var growth = (ResidentBytes() - rss) / 1e6;
        Assert.True(growth < 50, $"RSS grew {growth:F1} MB over 500 steps");
    }

    [Fact]
    public void Gradient_accumulation_consumes_several_batches_per_step_deterministically()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        float[] Run(string name)
        {
            var config = Config(data, batch: 4);
            config.Training = config.Training with { Accumulation = 3 };
            using var trainer = ExperimentComposition.StartTrainer(config, Path.Combine(dir.Path, name));
            Assert.Equal(12, trainer.ImagesPerStep);
            for (var i = 0; i < 4; i++) Assert.True(double.IsFinite(trainer.TrainStep()));
            Assert.Equal(48, trainer.ImagesSeen);
            var checkpoint = trainer.SaveCheckpoint();
            using var file = Checkpoint.Open(checkpoint);
            Assert.Equal("12", file.Metadata["loader_next_batch"]);
            return Weights(trainer);
        }
        Assert.Equal(Run("a"), Run("b"));
    }

    [Fact]
    public void Cancelling_a_run_saves_a_checkpoint_it_can_resume_from()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        var config = Config(data);
        config.Training = config.Training with { TickKimg = 0.016 };
        var run = Path.Combine(dir.Path, "cancelled");
        using var cancel = new CancellationTokenSource();
        long stoppedAt;
        using (var trainer = ExperimentComposition.StartTrainer(config, run))
        {
            // Cancel at the first tick, as Ctrl+C would.
            trainer.Run(new CancelOnFirstReport(cancel), cancel.Token);
            stoppedAt = trainer.Step;
            Assert.True(stoppedAt < config.Training.DurationKimg * 1000 / config.Training.BatchSize);
        }
        Assert.NotNull(Checkpoint.Latest(Path.Combine(run, "checkpoints")));
        Assert.True(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Any());
        using var resumed = ExperimentComposition.ResumeTrainer(config, run);
        Assert.Equal(stoppedAt, resumed.Step);
    }

    private sealed class CancelOnFirstReport(CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => cancel.Cancel();
    }

    private static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    [Fact]
    public void Non_finite_gradients_are_skipped_and_too_many_in_a_row_stop_training()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        var config = Config(data);
        config.Training = config.Training with { MaxNonfiniteInARow = 3 };
        using var trainer = ExperimentComposition.StartTrainer(config, Path.Combine(dir.Path, "nan"));
        trainer.TrainStep();
        var before = Weights(trainer);
        using (var noGrad = torch.no_grad()) trainer.Model.parameters().First().fill_(float.NaN);
        var nanWeights = Weights(trainer);
        Assert.True(double.IsNaN(trainer.TrainStep()));
        Assert.Equal(1, trainer.SkippedSteps);
        Assert.True(double.IsNaN(trainer.TrainStep()));
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep());
        Assert.Contains("3 steps in a row", e.Message, StringComparison.Ordinal);
        Assert.NotEqual(before, nanWeights);
    }

    [Fact]
    public void CelebA64_paper_configuration_runs_one_training_step_on_the_cpu()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir, count: 2, size: 64);
        var config = Config(data, batch: 1);
        config.Model = new ModelSettings { ModelChannels = 128, ChannelMult = [1, 2, 2, 2], NumBlocks = 4, AttnResolutions = [16], Dropout = 0.1 };
        using var trainer = ExperimentComposition.StartTrainer(config, Path.Combine(dir.Path, "paper"));
        Assert.InRange(trainer.Model.parameter_count(), 59_000_000, 65_000_000);
        var before = trainer.FlatWeights.sum().item<double>();
        Assert.True(double.IsFinite(trainer.TrainStep()));
        Assert.NotEqual(before, trainer.FlatWeights.sum().item<double>());
    }

    [Fact]
    public void Edm_loss_refuses_corrupted_data_and_ambient_refuses_clean_data()
    {
        using var dir = new TempDir();
        var data = MaskedData(dir);
        var e = Assert.Throws<ConfigException>(() => ExperimentComposition.StartTrainer(Config(data, "edm"), Path.Combine(dir.Path, "edm")));
        Assert.Contains("corrupted", e.Message, StringComparison.Ordinal);
        var prepared = Fixtures.PreparedDataset(dir, 4, 1, 8, name: "plain.safetensors");
        var noisyPath = dir.File("noisy.safetensors");
        using (var source = AmbientDiffusion.Data.PreparedDataset.Open(prepared))
            DatasetCorruptor.Run(source, new GaussianNoise(0.1), 1, noisyPath);
        Assert.Contains("noisy", Assert.Throws<ConfigException>(() => ExperimentComposition.StartTrainer(Config(noisyPath, "ambient"), Path.Combine(dir.Path, "amb"))).Message, StringComparison.Ordinal);
    }
}

[CollectionDefinition("memory", DisableParallelization = true)]
public sealed class MemoryCollection;
