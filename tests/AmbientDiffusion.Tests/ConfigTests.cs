using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Config;

namespace AmbientDiffusion.Tests;

public class ConfigTests
{
    private const string Minimal = """
        name: t
        data:
          corrupted: masked.safetensors
        training:
          lr: 0.001
          batch_size: 8
        """;

    private static ConfigException Error(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "x.yaml", overrides));

    [Fact]
    public void Unknown_key_is_an_error_at_its_line_and_column()
    {
        var e = Error(Minimal + "\n  lrr: 0.1\n");
        Assert.Equal("x.yaml:7:3: unknown key 'lrr'", e.Message);
    }

    [Fact]
    public void Duplicate_key_is_an_error_with_its_position()
    {
        var e = Error(Minimal + "\n  lr: 0.002\n");
        Assert.StartsWith("x.yaml:7:", e.Message, StringComparison.Ordinal);
        Assert.Contains("lr", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_type_is_an_error_with_its_position()
    {
        var e = Error(Minimal.Replace("batch_size: 8", "batch_size: eight", StringComparison.Ordinal));
        Assert.StartsWith("x.yaml:6:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_value_names_the_key_path_the_expectation_and_the_position()
    {
        var e = Error(Minimal.Replace("lr: 0.001", "lr: 5", StringComparison.Ordinal));
        Assert.Equal("x.yaml:5:3: training.lr = 5: expected a learning rate in (0, 1)", e.Message);
        Assert.Equal("training.lr", e.Key);
        e = Error(Minimal + "\ncorruption:\n  p: 0.5\n");
        Assert.StartsWith("x.yaml:7:1: corruption = (a section): expected no corruption section", e.Message, StringComparison.Ordinal);
        e = Error(Minimal + "\nloss:\n  kind: ambient\n  delta: 0\n");
        Assert.StartsWith("x.yaml:9:3: loss.delta = 0: expected delta > 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_default_that_fails_validation_points_at_its_section()
    {
        // model_channels defaults to 64; channel_mult written empty: the error points at channel_mult itself.
        var e = Error(Minimal + "\nmodel:\n  channel_mult: []\n");
        Assert.StartsWith("x.yaml:8:3: model.channel_mult = []", e.Message, StringComparison.Ordinal);
        e = Error("name: t\ndataset:\n  source: fashion-mnist\n");
        Assert.Equal("x.yaml: corruption = (missing): expected a corruption section (or data.corrupted naming a corrupted dataset file)", e.Message);
    }

    [Fact]
    public void Set_overrides_values_and_reports_bad_ones_as_overrides()
    {
        var config = ConfigLoader.Parse(Minimal, "x.yaml", ["training.lr=2e-4", "model.channel_mult=[1, 2]", "sampling.seeds=0-9", "name=other"]);
        Assert.Equal(2e-4, config.Training.Lr);
        Assert.Equal([1, 2], config.Model.ChannelMult);
        Assert.Equal(10, config.Sampling.SeedList().Count);
        Assert.Equal("other", config.Name);

        Assert.Contains("unknown key 'lrr' in training (known: duration_kimg,", Error(Minimal, "training.lrr=1").Message, StringComparison.Ordinal);
        Assert.Contains("--set training.batch_size=many: expected an integer", Error(Minimal, "training.batch_size=many").Message, StringComparison.Ordinal);
        Assert.Equal("x.yaml: (from --set training.lr) training.lr = 3: expected a learning rate in (0, 1)", Error(Minimal, "training.lr=3").Message);
        Assert.Contains("expected key.path=value", Error(Minimal, "training.lr").Message, StringComparison.Ordinal);
        Assert.Contains("'training.lr' is a value, not a section", Error(Minimal, "training.lr.x=1").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Set_creates_an_absent_optional_section()
    {
        var config = ConfigLoader.Parse("name: t\ndataset:\n  source: fashion-mnist\n", "x.yaml", ["corruption.p=0.4"]);
        Assert.Equal(0.4, config.Corruption!.P);
        Assert.Equal(MaskKind.Pixel, config.Corruption.Mask);
    }

    [Fact]
    public void Resolved_config_round_trips_through_yaml()
    {
        var config = ConfigLoader.Parse(Minimal, "x.yaml", ["sampling.churn=5", "device.type=cpu"]);
        var again = ConfigLoader.Parse(ConfigLoader.ToYaml(config), "resolved.yaml");
        Assert.Equal(ConfigLoader.ToYaml(config), ConfigLoader.ToYaml(again));
        Assert.Equal(5, again.Sampling.Churn);
        Assert.Equal("cpu", again.Device.Type);
    }

    [Fact]
    public void Paths_resolve_relative_to_the_config_file()
    {
        using var dir = new TempDir();
        var path = dir.File("configs/x.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "name: t\ndataset:\n  source: ../images\ncorruption:\n  p: 0.5\n");
        var config = ConfigLoader.Load(path);
        Assert.Equal(Path.Combine(dir.Path, "images"), config.Dataset!.Source);
        File.WriteAllText(path, "name: t\ndataset:\n  source: fashion-mnist:test\ncorruption:\n  p: 0.5\n");
        Assert.Equal("fashion-mnist:test", ConfigLoader.Load(path).Dataset!.Source);
        Assert.Throws<FileNotFoundException>(() => ConfigLoader.Load(dir.File("missing.yaml")));
    }

    [Fact]
    public void Every_shipped_config_loads_and_every_sweep_expands()
    {
        var folder = Path.Combine(RepositoryRoot(), "configs");
        var files = Directory.GetFiles(folder, "*.yaml");
        Assert.Contains(files, f => f.EndsWith("quickstart.yaml", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var config = ConfigLoader.Load(file);
            if (config.Sweep is not null) Assert.True(SweepExpander.Expand(config).Count >= 2, file);
        }
    }

    [Fact]
    public void Sweep_grid_expands_in_order_with_labels_and_validated_points()
    {
        var yaml = """
            name: s
            dataset:
              source: fashion-mnist
            corruption:
              p: 0.5
            sweep:
              grid:
                corruption.p: [0.0, 0.4, 0.8]
                seed: [0, 1]
                loss.kind: [ambient, naive]
            """;
        var points = SweepExpander.Expand(ConfigLoader.Parse(yaml, "s.yaml"));
        Assert.Equal(12, points.Count);
        Assert.Equal("p=0.0_seed=0_kind=ambient", points[0].Label);
        Assert.Equal("p=0.0_seed=0_kind=naive", points[1].Label);
        Assert.Equal("p=0.8_seed=1_kind=naive", points[^1].Label);
        Assert.Equal(0.8, points[^1].Config.Corruption!.P);
        Assert.Equal(1UL, points[^1].Config.Seed);
        Assert.Equal(LossKind.Naive, points[^1].Config.Loss.Kind);
        Assert.Null(points[0].Config.Sweep);
        Assert.Equal(12, points.Select(p => p.Label).Distinct().Count());

        var bad = Assert.Throws<ConfigException>(() => SweepExpander.Expand(ConfigLoader.Parse(yaml.Replace("[0.0, 0.4, 0.8]", "[0.0, 1.5]", StringComparison.Ordinal), "s.yaml")));
        Assert.Contains("sweep point p=1.5", bad.Message, StringComparison.Ordinal);
        Assert.Contains("corruption.p = 1.5: expected a fraction in [0, 1)", bad.Message, StringComparison.Ordinal);
        var typo = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml + "\n  x: lr\n", "s.yaml"));
        Assert.Contains("s.yaml:11:3: sweep.x = lr: expected one of the sweep keys", typo.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweep_runs_cross_the_grid_with_explicit_settings()
    {
        var yaml = """
            name: m
            dataset:
              source: fashion-mnist
            corruption:
              p: 0.5
            sweep:
              grid:
                seed: [0, 1]
              runs:
                - {corruption.p: "0.0", loss.kind: edm}
                - {corruption.p: "0.8", loss.kind: ambient}
            """;
        var points = SweepExpander.Expand(ConfigLoader.Parse(yaml, "m.yaml"));
        Assert.Equal(["seed=0_p=0.0_kind=edm", "seed=0_p=0.8_kind=ambient", "seed=1_p=0.0_kind=edm", "seed=1_p=0.8_kind=ambient"], points.Select(p => p.Label));
        Assert.Equal(LossKind.Edm, points[2].Config.Loss.Kind);
        Assert.Equal(0.8, points[3].Config.Corruption!.P);
        Assert.Contains("keys that are not also grid keys", Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml.Replace("loss.kind: edm", "seed: 3", StringComparison.Ordinal), "m.yaml")).Message, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AmbientDiffusion.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
