using System.CommandLine;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>The whole pipeline on tiny data: data cache, training, sampling, memorization report, sweeps and the CLI.</summary>
[Collection("memory")]
public class ExperimentTests
{
    /// <summary>Smooth random 8x8 grey images (so that neighbours are meaningful), 24 for training and 8 held out.</summary>
    internal static string SmoothPrepared(TempDir dir)
    {
        using var scope = torch.NewDisposeScope();
        var random = new Random(11);
        var images = MemorizationFixtures.Stack(Enumerable.Range(0, 32).Select(_ => MemorizationFixtures.SmoothImage(random, channels: 1, size: 8)).ToList(), channels: 1, size: 8);
        var path = dir.File("prepared.safetensors");
        AmbientDiffusion.Data.PreparedDataset.Write(path, images.narrow(0, 0, 24), images.narrow(0, 24, 8), new { Source = "test" });
        return path;
    }

    internal static string TinyConfig(TempDir dir, string extra = "") => $"""
        name: tiny
        seed: 1
        data:
          prepared: {SmoothPrepared(dir)}
        corruption:
          p: 0.5
          seed: 2
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
          seeds: 0-7
          steps: 3
          batch_size: 8
          grid: 8
        {TinyRunYaml.MemorizationOnCpu}
        {extra}
        """;

    internal static string WriteConfig(TempDir dir, string yaml, string name = "tiny.yaml")
    {
        var path = dir.File(name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void An_experiment_trains_on_the_cached_corrupted_data_then_samples_and_reports()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(WriteConfig(dir, TinyConfig(dir)));
        var runner = new ExperimentRunner(dir.File("runs"));
        var result = runner.Run(config);
        Assert.Equal(4, result.Step);
        Assert.True(result.Sampled && result.Analyzed && !result.Cancelled);
        Assert.StartsWith(Path.Combine(dir.File("runs"), "data"), result.Inputs.Corrupted, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.ChangeExtension(result.Inputs.Corrupted, ".preview.png")));
        Assert.Equal(result.Inputs, result.Run.ReadInputs());
        using (var samples = SampleSet.Open(result.Run.SamplesFile))
            Assert.Equal([8L, 1, 8, 8], samples.Info(SampleSet.SamplesKey).Shape);
        foreach (var file in new[] { "report.json", "report.html", "neighbors.png", "quality.json" })
            Assert.True(File.Exists(Path.Combine(result.Run.Report, file)), file);

        // Without --resume an existing run is refused; with it, finished stages are skipped.
        Assert.Contains("already has checkpoints", Assert.Throws<ArgumentException>(() => runner.Run(config)).Message, StringComparison.Ordinal);
        var reportTime = File.GetLastWriteTimeUtc(result.Run.ReportFile);
        var again = runner.Run(config, resume: true);
        Assert.Equal(4, again.Step);
        Assert.Equal(reportTime, File.GetLastWriteTimeUtc(result.Run.ReportFile));

        // Resuming with another model would mix two experiments.
        var changed = ConfigLoader.Load(dir.File("tiny.yaml"), ["model.model_channels=32"]);
        Assert.Contains("model differs", Assert.Throws<ConfigException>(() => runner.Run(changed, resume: true)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_summary_keeps_its_columns_when_explicit_runs_set_different_keys()
    {
        using var dir = new TempDir();
        var sweep = ConfigLoader.Load(WriteConfig(dir, TinyConfig(dir,
            "sweep:\n  runs:\n    - {corruption.p: \"0.0\", loss.kind: edm}\n    - {corruption.p: \"0.8\", loss.kind: ambient, sampling.sigma_min: \"0.2\"}\n")));
        var points = SweepExpander.Expand(sweep);
        SweepSummary.Write(sweep, points, dir.Path);
        var lines = File.ReadAllLines(Path.Combine(dir.Path, "summary.csv"));
        Assert.Equal(3, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal(["run", "corruption.p", "loss.kind", "sampling.sigma_min", "status"], header.Take(5));
        Assert.All(lines, line => Assert.Equal(header.Length, line.Split(',').Length));
        Assert.Equal(["p=0.0_kind=edm", "0.0", "edm", "", "pending"], lines[1].Split(',').Take(5));
        Assert.Equal("0.2", lines[2].Split(',')[3]);
        Assert.Contains("| p=0.8_kind=ambient_sigma_min=0.2 | 0.8 | ambient | 0.2 | pending |", File.ReadAllText(Path.Combine(dir.Path, "summary.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_of_two_runs_completes_resumes_after_an_interruption_and_writes_its_summary()
    {
        using var dir = new TempDir();
        var sweep = ConfigLoader.Load(WriteConfig(dir, TinyConfig(dir, "sweep:\n  grid:\n    corruption.p: [0.2, 0.6]\n")));
        var runner = new SweepRunner(dir.File("runs"));
        var folder = runner.Folder(sweep);

        // Interrupt the second run at its first training step, as Ctrl+C would.
        using (var cancel = new CancellationTokenSource())
        {
            runner.Run(sweep, new AmbientDiffusion.Common.ProgressRelay<SweepProgress>(p =>
            {
                if (p.Run == 2 && p.Stage.Stage == "train") cancel.Cancel();
            }), cancel.Token);
        }
        var first = new RunDirectory(Path.Combine(folder, "p=0.2"));
        var second = new RunDirectory(Path.Combine(folder, "p=0.6"));
        Assert.True(File.Exists(Path.Combine(first.Path, "done.json")));
        Assert.False(File.Exists(Path.Combine(second.Path, "done.json")));
        Assert.NotNull(Checkpoint.Latest(second.Checkpoints));
        var partial = File.ReadAllLines(Path.Combine(folder, "summary.csv"));
        Assert.Equal(3, partial.Length);
        Assert.Contains(",done,", partial[1], StringComparison.Ordinal);
        Assert.Contains(",pending,", partial[2], StringComparison.Ordinal);

        var firstReport = File.GetLastWriteTimeUtc(first.ReportFile);
        var visited = new HashSet<int>();
        runner.Run(sweep, new AmbientDiffusion.Common.ProgressRelay<SweepProgress>(p => visited.Add(p.Run)));
        Assert.Equal([2], visited);
        Assert.Equal(firstReport, File.GetLastWriteTimeUtc(first.ReportFile));
        Assert.True(File.Exists(Path.Combine(second.Path, "done.json")));
        using (var file = Checkpoint.Open(Checkpoint.Latest(second.Checkpoints)!))
            Assert.Equal("32", file.Metadata["images_seen"]);

        var csv = File.ReadAllLines(Path.Combine(folder, "summary.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("run,corruption.p,status,d1_median,d1_median_heldout,", csv[0], StringComparison.Ordinal);
        Assert.All(csv.Skip(1), row => Assert.Contains(",done,", row, StringComparison.Ordinal));
        var cells = csv[2].Split(',');
        Assert.Equal("0.6", cells[1]);
        Assert.True(double.Parse(cells[3], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains("| p=0.6 | 0.6 | done |", File.ReadAllText(Path.Combine(folder, "summary.md")), StringComparison.Ordinal);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(folder, "summary.svg")), StringComparison.Ordinal);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(folder, "quality.svg")), StringComparison.Ordinal);
        // Every metric the run measured is filled, with the held-out baseline beside those that have one. What was not
        // measured stays empty, never 0: this tiny sweep runs no membership attack and no evaluation (no evaluation/
        // folder), and the distance to the training set has no baseline.
        Assert.False(Directory.Exists(Path.Combine(second.Report, "evaluation")));
        var header = csv[0].Split(',');
        string Cell(string column) => cells[Array.IndexOf(header, column)];
        var unmeasured = SweepSummary.Metrics.Where(m => m.Column.StartsWith("mia_", StringComparison.Ordinal) || m.Column.StartsWith("eval_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(unmeasured);
        foreach (var metric in SweepSummary.Metrics.Except(unmeasured)) Assert.True(Cell(metric.Column) != "", $"{metric.Column} is empty");
        foreach (var metric in unmeasured) Assert.Equal(("", ""), (Cell(metric.Column), Cell(metric.Column + "_heldout")));
        foreach (var column in new[] { "d1_median", "ratio_below_third", "fd_pixels" }) Assert.True(Cell(column + "_heldout") != "", $"{column}_heldout is empty");
        Assert.Equal("", Cell("fd_pixels_to_train_heldout"));
        var fd = Array.IndexOf(header, "fd_pixels");
        Assert.True(double.Parse(cells[fd], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(double.Parse(cells[fd + 1], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(0x89, File.ReadAllBytes(Path.Combine(folder, "summary.png"))[0]);
    }

    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    [Fact]
    public void Cli_train_sample_and_exit_codes()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir, TinyConfig(dir));
        var runs = dir.File("runs");
        Assert.Equal(0, Ambient("train", config, "--runs", runs, "--dry-run"));
        Assert.False(Directory.Exists(runs));
        Assert.Equal(1, Ambient("train", config, "--runs", runs, "--set", "training.lr=7"));
        Assert.Equal(1, Ambient("train", config, "--runs", runs, "--set", "training.nope=1"));
        Assert.Equal(1, Ambient("train", dir.File("missing.yaml")));
        Assert.Equal(0, Ambient("train", config, "--runs", runs, "--set", "sampling.seeds=", "--set", "memorization.enabled=false"));
        Assert.Equal(1, Ambient("train", config, "--runs", runs));
        Assert.Equal(0, Ambient("sample", "-c", Path.Combine(runs, "tiny"), "--seeds", "0-3", "--steps", "3", "--png"));
        Assert.True(File.Exists(Path.Combine(runs, "tiny", "samples", "samples.npz")));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(runs, "tiny", "samples", "png")).Length);
        Assert.Equal(0, Ambient("memorization", Path.Combine(runs, "tiny"), "--worst", "1"));
        Assert.True(File.Exists(Path.Combine(runs, "tiny", "report", "report.html")));
        Assert.True(File.Exists(Path.Combine(runs, "tiny", "report", "quality.json")));
        Assert.Contains("\"worst_count\": 1", File.ReadAllText(Path.Combine(runs, "tiny", "report", "report.json")), StringComparison.Ordinal);
        Assert.Equal(1, Ambient("memorization", dir.File("not-a-run")));
        Assert.Equal(1, Ambient("memorization", "--samples", Path.Combine(runs, "tiny", "samples", "samples.safetensors")));
        Assert.Equal(1, Ambient("sample", "-c", dir.File("nothing-here"), "--seeds", "0-3"));
        Assert.Equal(1, Ambient("sample", "-c", Path.Combine(runs, "tiny"), "--seeds", "3-1"));
        Assert.Equal(0, Ambient("sweep", config, "--dry-run", "--set", "sweep.grid={corruption.p: [0.1, 0.2]}"));
        Assert.Equal(1, Ambient("sweep", config));
    }

    [Fact]
    public void Every_command_has_help_with_examples()
    {
        foreach (var command in new[] { "prepare", "corrupt", "train", "sample", "memorization", "sweep", "info" })
        {
            var root = AmbientCli.CreateRoot();
            var sub = root.Subcommands.Single(c => c.Name == command);
            Assert.Contains("Examples:", sub.Description, StringComparison.Ordinal);
            Assert.Equal(0, CommandRunner.Run(AmbientCli.CreateRoot(), [command, "--help"]));
        }
    }

    [Fact]
    public void Internal_errors_exit_2_and_log_the_stack_trace_in_the_run_directory()
    {
        using var dir = new TempDir();
        var failing = new Command("explode");
        failing.SetAction((Func<ParseResult, int>)(_ =>
        {
            CommandRunner.LogDirectory = dir.Path;
            throw new InvalidOperationException("boom");
        }));
        var root = new RootCommand { failing };
        Assert.Equal(2, CommandRunner.Run(root, ["explode"]));
        var log = File.ReadAllText(dir.File("error.log"));
        Assert.Contains("System.InvalidOperationException: boom", log, StringComparison.Ordinal);
        Assert.Contains(" at ", log, StringComparison.Ordinal);
    }
}
