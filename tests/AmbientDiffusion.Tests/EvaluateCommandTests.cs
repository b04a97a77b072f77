using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>`ambient evaluate` on tiny data: metrics.json, evaluation.html and the embeddable fragment.</summary>
public class EvaluateCommandTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    /// <summary>A prepared dataset of 50 random 1x8x8 training images and 16 held out, and two sample sets of 20 with seeds.</summary>
    private static (string Prepared, string First, string Second) Inputs(TempDir dir)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(9);
        var prepared = dir.File("data.safetensors");
        AmbientDiffusion.Data.PreparedDataset.Write(prepared, torch.randint(0, 256, [50, 1, 8, 8], ScalarType.Byte, generator: generator),
            torch.randint(0, 256, [16, 1, 8, 8], ScalarType.Byte, generator: generator), new { Source = "test" });
        SampleSet.Write(dir.File("s0"), torch.randint(0, 256, [20, 1, 8, 8], ScalarType.Byte, generator: generator), Enumerable.Range(100, 20).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
        SampleSet.Write(dir.File("s1"), torch.randint(0, 128, [20, 1, 8, 8], ScalarType.Byte, generator: generator), Enumerable.Range(200, 20).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
        return (prepared, Path.Combine(dir.File("s0"), SampleSet.TensorFile), Path.Combine(dir.File("s1"), SampleSet.TensorFile));
    }

    [Fact]
    public void Evaluate_writes_metrics_json_and_an_html_page_with_the_same_numbers()
    {
        using var dir = new TempDir();
        var (prepared, first, second) = Inputs(dir);
        var output = dir.File("eval");
        Assert.Equal(0, Ambient("evaluate", "--samples", first, "--samples", second, "--reference", prepared, "--kid-subsets", "5", "--seed", "3", "--device", "cpu", "-o", output));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, MetricsReportWriter.JsonFile)));
        var root = json.RootElement;
        Assert.Equal("pixels", root.GetProperty("feature_space").GetString());
        Assert.Equal(64, root.GetProperty("feature_dimension").GetInt64());
        Assert.Equal("100-119", root.GetProperty("sample_sets")[0].GetProperty("seeds").GetString());
        Assert.Equal("200-219", root.GetProperty("sample_sets")[1].GetProperty("seeds").GetString());
        Assert.Equal("split", root.GetProperty("floor").GetProperty("method").GetString());
        Assert.Contains("AmbientDiffusion", root.GetProperty("version").GetString());
        foreach (var key in new[] { "fd", "kid", "precision", "recall", "density", "coverage" })
        {
            var metric = root.GetProperty(key);
            Assert.Equal(2, metric.GetProperty("values").GetArrayLength());
            Assert.Equal(20, metric.GetProperty("n").GetInt32());
            Assert.Equal(20, metric.GetProperty("floor_n").GetInt32()); // as many as a sample set: the half holds 25
            Assert.Equal(25, metric.GetProperty("floor_reference_n").GetInt32()); // the floor's other half
            Assert.Equal(50, metric.GetProperty("reference_n").GetInt32()); // the samples: against the whole reference
            var values = metric.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(values.Min(), metric.GetProperty("min").GetDouble());
            Assert.Equal(values.Average(), metric.GetProperty("value").GetDouble(), 12);
            Assert.True(double.IsFinite(metric.GetProperty("floor").GetDouble()));
        }
        // Set 2 (pixels in [0, 0.5)) is farther from the uniform reference than set 1 (same law as the reference).
        var fd = root.GetProperty("fd").GetProperty("values");
        Assert.True(fd[1].GetDouble() > fd[0].GetDouble());

        var html = XDocument.Parse(File.ReadAllText(Path.Combine(output, MetricsReportWriter.HtmlFile)));
        var cells = html.Descendants().Where(e => e.Attribute("data-value") is not null)
            .ToDictionary(e => e.Attribute("data-key")!.Value, e => double.Parse(e.Attribute("data-value")!.Value, CultureInfo.InvariantCulture));
        foreach (var key in new[] { "fd", "kid", "precision", "recall", "density", "coverage" })
        {
            Assert.Equal(root.GetProperty(key).GetProperty("floor").GetDouble(), cells[$"/{key}/floor"]);
            Assert.Equal(root.GetProperty(key).GetProperty("mean").GetDouble(), cells[$"/{key}/mean"]);
            Assert.Equal(root.GetProperty(key).GetProperty("values")[1].GetDouble(), cells[$"/{key}/values/1"]);
        }
        Assert.Equal(root.GetProperty("kid").GetProperty("stds")[0].GetDouble(), cells["/kid/stds/0"]);
        Assert.DoesNotContain(html.Descendants(), e => e.Attribute("src") is { } src && src.Value.StartsWith("http", StringComparison.Ordinal));

        var read = MetricsReportWriter.Read(output)!;
        Assert.Equal(root.GetProperty("fd").GetProperty("floor").GetDouble(), read.Fd.Floor);
        var fragment = XElement.Parse(MetricsHtml.Fragment(read));
        Assert.Equal("section", fragment.Name.LocalName);
    }

    [Fact]
    public void Evaluate_against_held_out_images_and_a_second_real_set_is_reproducible()
    {
        using var dir = new TempDir();
        var (prepared, first, _) = Inputs(dir);
        var options = new EvaluationOptions { SamplesPaths = [first], ReferencePath = prepared, FloorReferencePath = first, ReferenceHeldOut = false, KidSubsets = 4, Device = "cpu" };
        var once = QualityEvaluator.Run(options);
        var twice = QualityEvaluator.Run(options);
        Assert.Equal("second_set", once.Floor.Method);
        Assert.Equal((20, 20, 50, 50), (once.Fd.N, once.Fd.FloorN, once.Fd.ReferenceN, once.Fd.FloorReferenceN));
        Assert.Equal(0, once.Fd.Floor - once.Fd.Value, 9); // the floor set is the sample set itself here
        Assert.Equal(once.Kid.Values, twice.Kid.Values);

        var held = QualityEvaluator.Run(options with { ReferenceHeldOut = true, FloorReferencePath = null });
        Assert.Equal("heldout", held.ReferenceSplit);
        Assert.Equal((8, 8), (held.Fd.FloorN, held.Fd.FloorReferenceN)); // 16 held-out images split in halves of 8
        Assert.Equal(16, held.Fd.ReferenceN); // the samples: against all of them
        Assert.Contains(held.Notes, note => note.Contains("the floor compares 8 with 8 real images, the samples 20 with 16", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_rejects_bad_inputs_with_exit_code_1()
    {
        using var dir = new TempDir();
        var (prepared, first, _) = Inputs(dir);
        var output = dir.File("eval");
        Assert.Equal(1, Ambient("evaluate", "--samples", first, "--reference", dir.File("missing.safetensors"), "-o", output));
        Assert.Equal(1, Ambient("evaluate", "--samples", first, "--reference", prepared, "--features", "bogus", "-o", output));
        Assert.Equal(1, Ambient("evaluate", "--samples", first, "--reference", prepared, "--k", "0", "-o", output));
        Assert.Equal(1, Ambient("evaluate", "--reference", prepared, "-o", output));
        var rgb = Fixtures.PreparedDataset(dir, count: 30, channels: 3, size: 8, name: "rgb.safetensors");
        Assert.Equal(1, Ambient("evaluate", "--samples", first, "--reference", rgb, "-o", output));
        var noHeldOut = Fixtures.PreparedDataset(dir, count: 30, channels: 1, size: 8, name: "plain.safetensors");
        Assert.Equal(1, Ambient("evaluate", "--samples", first, "--reference", noHeldOut, "--reference-heldout", "-o", output));
        Assert.False(Directory.Exists(output));
        Assert.Contains("net.pt", Assert.ThrowsAny<Exception>(() => FeatureExtractors.Create(FeatureSpec.Parse("inception:net.pt"), Device.CPU)).Message, StringComparison.Ordinal);
    }
}
