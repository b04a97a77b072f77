using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Experiments;

namespace AmbientDiffusion.Tests;

/// <summary>`ambient train` measures its samples in the field's terms: metrics.json per feature space, beside floors.</summary>
[Collection("memory")]
public class PipelineEvaluationTests
{
    [Fact]
    public void An_experiment_writes_metrics_with_floors_in_its_feature_space_and_skips_them_when_up_to_date()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir, "evaluation:\n  k: 2\n  kid_subsets: 5\n  kid_subset_size: 4\n")));
        var runner = new ExperimentRunner(dir.File("runs"));
        var result = runner.Run(config);
        // The tiny data have no labels: no classifier, so pixels are the evaluation space.
        var folder = result.Run.Evaluation("pixels");
        var metrics = MetricsReportWriter.Read(folder);
        Assert.NotNull(metrics);
        Assert.Equal("pixels", metrics!.FeatureSpace);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, MetricsReportWriter.JsonFile)));
        foreach (var key in new[] { "fd", "kid", "precision", "recall", "density", "coverage" })
        {
            var metric = json.RootElement.GetProperty(key);
            Assert.True(metric.TryGetProperty("floor", out _), $"{key} has no floor");
            Assert.Equal(8, metric.GetProperty("n").GetInt32());
        }
        var written = File.GetLastWriteTimeUtc(Path.Combine(folder, MetricsReportWriter.JsonFile));
        runner.Run(config, resume: true);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(folder, MetricsReportWriter.JsonFile)));
        // The memorization report opens with its verdict and lists every sample's scores.
        Assert.Contains("id=\"verdict\"", File.ReadAllText(Path.Combine(result.Run.Report, "report.html")), StringComparison.Ordinal);
        Assert.Equal(9, File.ReadAllLines(Path.Combine(result.Run.Report, "per_sample.csv")).Length);

        // Another training seed is measured with the same instrument: the same floor split, so the same floors.
        config.Seed = 1;
        config.Name += "-seed1";
        var other = MetricsReportWriter.Read(runner.Run(config).Run.Evaluation("pixels"))!;
        Assert.Equal(metrics.Metrics.Select(m => (m.Key, m.Summary.Floor)), other.Metrics.Select(m => (m.Key, m.Summary.Floor)));
    }

    [Fact]
    public void A_bad_feature_space_or_metric_setting_names_its_key()
    {
        using var dir = new TempDir();
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir, "evaluation:\n  features: [bogus:x]\n"))));
        Assert.Contains("evaluation.features", bad.Message, StringComparison.Ordinal);
        var k = Assert.Throws<ConfigException>(() => ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir, "evaluation:\n  k: 0\n"), "k.yaml")));
        Assert.Contains("evaluation.k = 0", k.Message, StringComparison.Ordinal);
    }
}
