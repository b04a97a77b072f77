using System.Text.Json;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Models;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>Issue 22 items 3 and 4: NaN and infinity never reach a JSON writer, and no reader takes them for weights or data.</summary>
[Collection("memory")]
public class NonFiniteTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    private static ExperimentConfig Config(string data, TrainingSettings training) => new()
    {
        Name = "finite-test",
        Seed = 3,
        Device = new DeviceSettings { Type = "cpu", Bf16 = Bf16Mode.False },
        Data = new DataSection { Corrupted = data },
        Model = new ModelSettings { ModelChannels = 16, ChannelMult = [1, 2], NumBlocks = 1, AttnResolutions = [4], Dropout = 0 },
        Loss = new LossSettings { Kind = LossKind.Ambient, Delta = 0.1 },
        Training = training,
    };

    private static readonly TrainingSettings FewSteps = new() { BatchSize = 8, DurationKimg = 0.032, Lr = 1e-3, LrWarmupKimg = 0, EmaHalflifeKimg = 0.1, TickKimg = 0.008, CheckpointKimg = 1000 };

    private static string MaskedData(TempDir dir)
    {
        var prepared = Fixtures.PreparedDataset(dir, 16, 1, 8, name: "clean.safetensors");
        using var source = Data.PreparedDataset.Open(prepared);
        var path = dir.File("masked.safetensors");
        DatasetCorruptor.Run(source, new PixelMask(0.5), 7, path);
        return path;
    }

    /// <summary>Rewrites the safetensors file <paramref name="path"/> with each tensor whose name <paramref name="which"/>
    /// accepts replaced by <paramref name="change"/> of it (metadata kept); returns the names changed.</summary>
    private static List<string> Tamper(string path, Func<string, bool> which, Func<Tensor, Tensor> change)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = SafeTensors.Load(path);
        Dictionary<string, string> metadata;
        using (var file = SafeTensors.Open(path)) metadata = file.Metadata.ToDictionary(p => p.Key, p => p.Value);
        var changed = tensors.Keys.Where(which).ToList();
        foreach (var key in changed) tensors[key] = change(tensors[key].clone());
        SafeTensors.Save(path, tensors, metadata);
        return changed;
    }

    private static bool IsEmaWeight(string key) => key.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal) && key.EndsWith(".weight", StringComparison.Ordinal);

    private static Tensor WithNaNs(Tensor t, int count)
    {
        var flat = t.reshape(-1);
        for (var i = 0; i < count; i++) flat[i].fill_(double.NaN);
        return t;
    }

    [Fact]
    public void Grad_clip_0_trains_and_records_the_unclipped_gradient_norm_in_metrics()
    {
        using var dir = new TempDir();
        var run = dir.File("noclip");
        using (var trainer = ExperimentComposition.StartTrainer(Config(MaskedData(dir), FewSteps with { GradClip = 0 }), run))
        {
            trainer.Run();
            Assert.True(trainer.IsComplete);
            Assert.True(double.IsFinite(trainer.LastGradNorm) && trainer.LastGradNorm > 0);
        }
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(4, lines.Length);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.GetProperty("grad_norm").GetDouble() > 0);
            Assert.True(double.IsFinite(json.RootElement.GetProperty("loss").GetDouble()));
        }
    }

    [Fact]
    public void A_diverging_run_stops_with_the_divergence_error_after_writing_its_nan_ticks()
    {
        using var dir = new TempDir();
        var run = dir.File("diverging");
        var config = Config(MaskedData(dir), FewSteps with { DurationKimg = 0.08, MaxNonfiniteInARow = 3 });
        using var trainer = ExperimentComposition.StartTrainer(config, run);
        var first = trainer.SaveCheckpoint();
        // Forced divergence: every forward pass is NaN from here on, so every tick's mean loss is NaN.
        using (var noGrad = torch.no_grad()) trainer.Model.parameters().First().fill_(float.NaN);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.Contains("3 steps in a row had non-finite gradients", e.Message, StringComparison.Ordinal);
        Assert.Contains(first, e.Message, StringComparison.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.NotEmpty(lines);
        using (var json = JsonDocument.Parse(lines[0])) Assert.Equal("NaN", json.RootElement.GetProperty("loss").GetString());
        // No checkpoint of the NaN state was written: the one before is the newest, and it loads.
        Assert.Equal(first, Checkpoint.Latest(trainer.CheckpointDirectory));
        var refused = Assert.Throws<TrainingDivergedException>(() => trainer.SaveCheckpoint());
        Assert.Contains("no checkpoint written", refused.Message, StringComparison.Ordinal);
        Assert.Equal(first, Checkpoint.Latest(trainer.CheckpointDirectory));
        using var resumed = ExperimentComposition.ResumeTrainer(config, run);
        Assert.Equal(0, resumed.Step);
    }

    [Fact]
    public void Resume_sample_and_synthesize_refuse_a_checkpoint_with_nan_weights_naming_file_and_tensor()
    {
        using var dir = new TempDir();
        var run = dir.File("poisoned");
        var config = Config(MaskedData(dir), FewSteps);
        string checkpoint;
        using (var trainer = ExperimentComposition.StartTrainer(config, run))
        {
            trainer.TrainStep();
            checkpoint = trainer.SaveCheckpoint();
        }
        string? first = null;
        var tensor = Assert.Single(Tamper(checkpoint, k => IsEmaWeight(k) && (first ??= k) == k, t => WithNaNs(t, 12)));

        var e = Assert.Throws<InvalidDataException>(() => CheckpointSampler.Load(checkpoint, Device.CPU));
        Assert.StartsWith($"checkpoint {checkpoint}: tensor '{tensor}' has 12 NaN values of ", e.Message, StringComparison.Ordinal);
        Assert.Contains(checkpoint, Assert.Throws<InvalidDataException>(() => ExperimentComposition.ResumeTrainer(config, run)).Message, StringComparison.Ordinal);
        Assert.Equal(1, Ambient("sample", "-c", checkpoint, "--seeds", "0-1", "--steps", "2", "-o", dir.File("samples")));
        Assert.False(File.Exists(Path.Combine(dir.File("samples"), SampleSet.TensorFile)));
        // The raw weights are finite: sampling them works, so only the poisoned tensor is refused.
        Assert.Equal(0, Ambient("sample", "-c", checkpoint, "--raw", "--seeds", "0-1", "--steps", "2", "-o", dir.File("raw")));
    }

    [Fact]
    public void Samples_that_blow_up_from_finite_weights_are_an_error_not_black_images()
    {
        using var dir = new TempDir();
        string checkpoint;
        using (var trainer = ExperimentComposition.StartTrainer(Config(MaskedData(dir), FewSteps), dir.File("huge")))
        {
            trainer.TrainStep();
            checkpoint = trainer.SaveCheckpoint();
        }
        Assert.NotEmpty(Tamper(checkpoint, k => k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal), t => t.fill_(1e30)));
        using var sampler = CheckpointSampler.Load(checkpoint, Device.CPU);
        var e = Assert.Throws<InvalidDataException>(() => sampler.Sample([0, 1], new SamplerOptions { Steps = 2 }, 2));
        Assert.Contains(checkpoint, e.Message, StringComparison.Ordinal);
        Assert.Contains("although the weights are finite", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Ambient("sample", "-c", checkpoint, "--seeds", "0-1", "--steps", "2", "-o", dir.File("samples")));
        Assert.False(File.Exists(Path.Combine(dir.File("samples"), SampleSet.TensorFile)));
    }

    [Fact]
    public void Memorization_refuses_a_feature_file_with_nan_naming_it()
    {
        using var dir = new TempDir();
        var samples = Fixtures.PreparedDataset(dir, 6, 1, 8, seed: 1, name: "samples.safetensors");
        var train = Fixtures.PreparedDataset(dir, 8, 1, 8, seed: 2, name: "train.safetensors");
        string Features(string name, int rows, bool nan)
        {
            using var scope = torch.NewDisposeScope();
            var values = torch.randn([rows, 4], generator: new Generator((ulong)rows));
            if (nan) values[2][1].fill_(double.NaN);
            var path = dir.File(name);
            SafeTensors.Save(path, new Dictionary<string, Tensor> { [MemorizationInputs.FeaturesKey] = values });
            return path;
        }
        var good = Features("train-features.safetensors", 8, nan: false);
        var bad = Features("sample-features.safetensors", 6, nan: true);
        var set = MemorizationInputs.ReadImages(samples, SetRole.Samples);
        var e = Assert.Throws<InvalidDataException>(() => MemorizationInputs.ReadFeatures(bad, set, null));
        Assert.StartsWith($"feature file {bad}: tensor 'features' has 1 NaN value of 24", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Ambient("memorization", "--samples", samples, "--train", train, "--features-samples", bad, "--features-train", good, "-o", dir.File("report")));
        Assert.False(File.Exists(Path.Combine(dir.File("report"), MemorizationReportWriter.JsonFile)));
    }

    [Fact]
    public void Reconstruction_refuses_a_measurement_artifact_with_infinite_values_naming_it()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, 4, 1, 8);
        var measured = dir.File("measured.safetensors");
        Assert.Equal(0, Ambient("measure", prepared, "--split", "train", "--operator", "pixel(p=0.6)", "--images", "0-1", "--seed", "1", "-o", measured));
        using (var artifact = MeasurementArtifact.Open(measured)) Assert.Equal(2, artifact.Count);
        Tamper(measured, k => k == MeasurementArtifact.MeasurementsKey, t => { t.reshape(-1)[3].fill_(double.PositiveInfinity); return t; });
        var e = Assert.Throws<InvalidDataException>(() => MeasurementArtifact.Open(measured));
        Assert.StartsWith($"measurement artifact {measured}: tensor '{MeasurementArtifact.MeasurementsKey}' has 1 infinite value of", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_finite_check_counts_nan_and_infinite_values_and_ignores_integer_tensors()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Null(FiniteValues.Problem(torch.ones([3, 3])));
        Assert.Null(FiniteValues.Problem(torch.tensor(new byte[] { 0, 255 }, [2])));
        var values = torch.zeros([2, 5]);
        values[0][1].fill_(double.NaN);
        values[1][2].fill_(double.NegativeInfinity);
        values[1][4].fill_(double.PositiveInfinity);
        Assert.Equal("1 NaN value and 2 infinite values of 10", FiniteValues.Problem(values));
        Assert.Equal("1 NaN value and 2 infinite values of 10", FiniteValues.Problem(values.to(ScalarType.Float16)));
    }
}
