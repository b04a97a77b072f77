using AmbientDiffusion.Cli;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Loops;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>Whatever can be checked before work is checked before it: each case fails with a message naming the file,
/// key or value and what was expected, and leaves no checkpoint, loop, worker or report behind.</summary>
[Collection("memory")]
public class ValidationBeforeWorkTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    private static string Checkpoints(string runs) => Path.Combine(runs, "tiny", "checkpoints");

    private static string SampleFile(TempDir dir, string name, int count, int size = 8)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(4);
        SampleSet.Write(dir.File(name), torch.randint(0, 256, [count, 1, size, size], ScalarType.Byte, generator: generator),
            Enumerable.Range(0, count).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
        return Path.Combine(dir.File(name), SampleSet.TensorFile);
    }

    [Fact]
    public void Too_few_sampling_seeds_for_the_evaluation_fail_before_training()
    {
        // The tiny data hold 8 held-out images: with k = 2 the evaluation runs, and 2 samples are fewer than its k + 1.
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)), ["evaluation.k=2", "sampling.seeds=0-1"]);
        var runs = dir.File("runs");
        var error = Assert.Throws<ConfigException>(() => new ExperimentRunner(runs).Run(config));
        Assert.Equal("sampling.seeds", error.Key);
        Assert.Contains("at least 3 samples", error.Message, StringComparison.Ordinal);
        Assert.Contains("prepared.safetensors", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Checkpoints(runs)));
    }

    [Fact]
    public void A_dataset_section_too_small_for_its_evaluation_or_memorization_is_refused_when_the_config_loads()
    {
        using var dir = new TempDir();
        string Config(string dataset, string seeds, string extra = "") => ExperimentTests.WriteConfig(dir, $"""
            dataset:
              source: images
              {dataset}
            corruption:
              p: 0.5
            sampling:
              seeds: "{seeds}"
            {extra}
            """);
        // The issue's case: 4 seeds against the default k = 5.
        var seeds = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("heldout: 1000", "0-3")));
        Assert.Equal("sampling.seeds", seeds.Key);
        Assert.Contains($"at least {QualityEvaluator.RowsNeeded(PrecisionRecallDensityCoverage.DefaultK)} samples", seeds.Message, StringComparison.Ordinal);
        Assert.Equal(6, QualityEvaluator.RowsNeeded(5));
        var heldOut = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("heldout: 8", "0-99")));
        Assert.Equal("dataset.heldout", heldOut.Key);
        Assert.Contains("at least 12 held-out images", heldOut.Message, StringComparison.Ordinal);
        // Without held-out images nothing is evaluated, so 4 seeds are fine; one sample is too few for memorization.
        Assert.NotNull(ConfigLoader.Load(Config("heldout: 0", "0-3")));
        var one = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("heldout: 0", "7")));
        Assert.Contains("memorization", one.Message, StringComparison.Ordinal);
        Assert.NotNull(ConfigLoader.Load(Config("heldout: 0", "7", "memorization:\n  enabled: false")));
        // A loop counts its synthetic_count samples.
        var loop = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("heldout: 100", "", "loop:\n  synthetic_count: 4")));
        Assert.Equal("loop.synthetic_count", loop.Key);
        // With dataset.count the loop's real pool is known when the config loads.
        var pool = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Config("count: 100\n  heldout: 100", "", "loop:\n  real_count: 500")));
        Assert.Equal("loop.real_count", pool.Key);
        Assert.Contains("at most 100 real images", pool.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejected_loop_config_writes_no_loop_yaml_and_does_not_poison_the_next_run()
    {
        using var dir = new TempDir();
        var path = LoopRunTests.TinyLoop(dir, "  type: augment\n  generations: 2\n  synthetic_count: 8\n  real_count: 12");
        var runs = dir.File("runs");
        var layout = new LoopLayout(Path.Combine(runs, "tiny-loop", "seed-1"));
        // 100 real images of the 24 prepared: refused, and nothing of the loop is left.
        var tooMany = Assert.Throws<ConfigException>(() => new LoopRunner(runs).Run(ConfigLoader.Load(path, ["loop.real_count=100"])));
        Assert.Equal("loop.real_count", tooMany.Key);
        Assert.False(File.Exists(layout.Config));
        // Another config is judged on its own, not as "another config" than the rejected one.
        var guided = Assert.Throws<ConfigException>(() => new LoopRunner(runs).Run(ConfigLoader.Load(path, ["loop.guidance=2"])));
        Assert.Equal("loop.guidance", guided.Key);
        Assert.False(File.Exists(layout.Config));
        // A loop.yaml left by an older version after a rejection, with no generation begun, binds nothing either.
        Directory.CreateDirectory(layout.Folder);
        File.WriteAllText(layout.Config, ConfigLoader.ToYaml(ConfigLoader.Load(path, ["loop.real_count=100"])));
        var stale = Assert.Throws<ConfigException>(() => new LoopRunner(runs).Run(ConfigLoader.Load(path, ["loop.real_count=50"])));
        Assert.Equal("loop.real_count", stale.Key);
        Assert.False(Directory.Exists(layout.Generation(1).Path));
    }

    [Fact]
    public void Launch_checks_the_batch_against_the_workers_before_starting_any()
    {
        using var dir = new TempDir();
        var config = ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir));
        var runs = dir.File("runs");
        // batch_size 8 over 20 or 3 workers does not divide: no worker starts, so no run directory appears.
        Assert.Equal(CommandRunner.UserError, Ambient("launch", "--nproc", "20", "--", "train", config, "--runs", runs));
        Assert.Equal(CommandRunner.UserError, Ambient("launch", "--nproc", "3", "--", "train", config, "--runs", runs));
        Assert.Contains("not divisible by the 3 workers", Assert.Throws<ArgumentException>(() => Cli.Commands.LaunchCommand.CheckBeforeStart(["train", config, "--runs", runs], 3)).Message, StringComparison.Ordinal);
        // A bad config or worker command is found once, by the launcher.
        Assert.Throws<ConfigException>(() => Cli.Commands.LaunchCommand.CheckBeforeStart(["train", config, "--set", "training.lr=-1"], 2));
        Assert.Equal(CommandRunner.UserError, Ambient("launch", "--nproc", "2", "--", "trian", config));
        Assert.False(Directory.Exists(runs));
        Cli.Commands.LaunchCommand.CheckBeforeStart(["train", config, "--runs", runs], 4); // 8 = 4 x 2
        Cli.Commands.LaunchCommand.CheckBeforeStart(["sample", "-c", runs, "--seeds", "0-9"], 3); // sampling shares seeds, not a batch
    }

    [Fact]
    public void Memorization_of_one_sample_fails_before_any_search_naming_the_file()
    {
        using var dir = new TempDir();
        var prepared = ExperimentTests.SmoothPrepared(dir);
        var one = SampleFile(dir, "one", 1);
        var output = dir.File("report");
        var error = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(new MemorizationOptions
        {
            SamplesPath = one, TrainPath = prepared, OutputDirectory = output, Settings = new MemorizationSettings { Device = "cpu" },
        }));
        Assert.StartsWith(Path.GetFullPath(one), error.Message, StringComparison.Ordinal);
        Assert.Contains("has 1 image, expected at least 2", error.Message, StringComparison.Ordinal);
        Assert.Equal(CommandRunner.UserError, Ambient("memorization", "--samples", one, "--train", prepared, "--device", "cpu", "-o", output));
        Assert.False(Directory.Exists(output));
        // A held-out set of one image is named the same way.
        var heldOut = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(new MemorizationOptions
        {
            SamplesPath = SampleFile(dir, "two", 2), TrainPath = prepared, HeldOutPath = one, OutputDirectory = output, Settings = new MemorizationSettings { Device = "cpu" },
        }));
        Assert.Contains("held", heldOut.Message, StringComparison.Ordinal);
        Assert.StartsWith(Path.GetFullPath(one), heldOut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_checks_every_set_size_before_extracting_features()
    {
        using var dir = new TempDir();
        var prepared = ExperimentTests.SmoothPrepared(dir); // 24 training images, 8 held out
        var four = SampleFile(dir, "four", 4);
        var twenty = SampleFile(dir, "twenty", 20);
        // The extractor file does not exist: each size error comes first, so none of them reached the extractor.
        var options = new EvaluationOptions { SamplesPaths = [four], ReferencePath = prepared, Device = "cpu", Features = Evaluation.Features.FeatureSpec.Parse("inception:missing.pt") };
        var samples = Assert.Throws<InvalidDataException>(() => QualityEvaluator.Run(options));
        Assert.StartsWith(Path.GetFullPath(four), samples.Message, StringComparison.Ordinal);
        Assert.Contains("4 images, expected at least 6", samples.Message, StringComparison.Ordinal);
        var heldOut = Assert.Throws<InvalidDataException>(() => QualityEvaluator.Run(options with { SamplesPaths = [twenty], ReferenceHeldOut = true }));
        Assert.Contains("8 held-out images, expected at least 12", heldOut.Message, StringComparison.Ordinal);
        var floor = Assert.Throws<InvalidDataException>(() => QualityEvaluator.Run(options with { SamplesPaths = [twenty], FloorReferencePath = four }));
        Assert.StartsWith(Path.GetFullPath(four), floor.Message, StringComparison.Ordinal);
        // With a second real set the reference is not split: 8 held-out images are enough for k = 5.
        Assert.Contains("missing.pt", Assert.ThrowsAny<Exception>(() => QualityEvaluator.Run(options with { SamplesPaths = [twenty], ReferenceHeldOut = true, FloorReferencePath = twenty })).Message, StringComparison.Ordinal);
        Assert.Equal(CommandRunner.UserError, Ambient("evaluate", "--samples", four, "--reference", prepared, "--device", "cpu", "-o", dir.File("eval")));
        Assert.False(Directory.Exists(dir.File("eval")));
    }

    [Fact]
    public void Files_the_analysis_will_read_are_checked_before_training()
    {
        using var dir = new TempDir();
        var path = ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir));
        var runs = dir.File("runs");
        ConfigException Refused(params string[] overrides) =>
            Assert.Throws<ConfigException>(() => new ExperimentRunner(runs).Run(ConfigLoader.Load(path, overrides)));
        Assert.Equal("evaluation.classifier", Refused($"evaluation.classifier={dir.File("missing-classifier.safetensors")}").Key);
        Assert.Equal("evaluation.features", Refused($"evaluation.features=[\"dinov2:{dir.File("missing.pt")}\"]").Key);
        var features = Refused($"memorization.features_samples={dir.File("s.safetensors")}", $"memorization.features_train={dir.File("t.safetensors")}");
        Assert.StartsWith("memorization.features_samples", features.Key, StringComparison.Ordinal);

        // Feature files that exist but have the wrong rows: named with what was expected, still before training.
        using (var scope = torch.NewDisposeScope())
        {
            SafeTensors.Save(dir.File("t.safetensors"), new Dictionary<string, Tensor> { ["features"] = torch.zeros([24, 4]) });
            SafeTensors.Save(dir.File("s.safetensors"), new Dictionary<string, Tensor> { ["features"] = torch.zeros([5, 4]) });
        }
        var rows = Assert.Throws<InvalidDataException>(() => new ExperimentRunner(runs).Run(ConfigLoader.Load(path,
            [$"memorization.features_samples={dir.File("s.safetensors")}", $"memorization.features_train={dir.File("t.safetensors")}"])));
        Assert.Contains("s.safetensors: 'features' has 5 rows, expected 8", rows.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Checkpoints(runs)));

        // A prepared file of one training image cannot be analysed: named before it is corrupted or trained on.
        var single = Fixtures.PreparedDataset(dir, count: 1, channels: 1, size: 8, name: "single.safetensors");
        var one = Assert.Throws<InvalidDataException>(() => new ExperimentRunner(runs).Run(ConfigLoader.Load(path, [$"data.prepared={single}"])));
        Assert.StartsWith($"{single}: 1 training image, expected at least 2", one.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Checkpoints(runs)));
        Assert.Empty(Directory.Exists(Path.Combine(runs, "data")) ? Directory.GetFiles(Path.Combine(runs, "data"), "single-*") : []);

        // A file where the run directory goes.
        Directory.CreateDirectory(runs);
        File.WriteAllText(Path.Combine(runs, "tiny"), "");
        Assert.Contains("a file is there", Assert.Throws<ArgumentException>(() => new ExperimentRunner(runs).Run(ConfigLoader.Load(path))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_paths_are_checked_before_the_work_that_fills_them()
    {
        using var dir = new TempDir();
        var prepared = ExperimentTests.SmoothPrepared(dir);
        var twenty = SampleFile(dir, "twenty", 20);
        var file = dir.File("a-file");
        File.WriteAllText(file, "");
        // A folder output where a file is, or below one; a file output where a folder is.
        Assert.Equal(CommandRunner.UserError, Ambient("evaluate", "--samples", twenty, "--reference", prepared, "--device", "cpu", "-o", file));
        Assert.Equal(CommandRunner.UserError, Ambient("memorization", "--samples", twenty, "--train", prepared, "--device", "cpu", "-o", Path.Combine(file, "report")));
        Assert.Equal(CommandRunner.UserError, Ambient("corrupt", prepared, "--p", "0.5", "-o", dir.Path));
        Assert.Contains("is a file", Assert.Throws<ArgumentException>(() => Common.OutputPath.CheckFolder(Path.Combine(file, "x", "y"), "--out")).Message, StringComparison.Ordinal);
        Assert.Contains("a folder is there", Assert.Throws<ArgumentException>(() => Common.OutputPath.CheckFile(dir.Path, "--out")).Message, StringComparison.Ordinal);
        Common.OutputPath.CheckFolder(dir.File("new/folder"), "--out");
        Common.OutputPath.CheckFile(dir.File("new/file.safetensors"), "--out");
        Assert.False(Directory.Exists(dir.File("new"))); // checking creates nothing
    }
}
