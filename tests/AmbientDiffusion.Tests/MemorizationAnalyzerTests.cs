using Xunit.Abstractions;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>Smooth random images and the files the analyzer reads.</summary>
internal static class MemorizationFixtures
{
    public const int Size = 16;
    public const int Channels = 3;

    /// <summary>A smooth random field per channel: a few low-frequency waves, scaled to fill [20, 235].</summary>
    public static byte[] SmoothImage(Random random, int channels = Channels, int size = Size)
    {
        var image = new byte[channels * size * size];
        for (var c = 0; c < channels; c++)
        {
            var field = new double[size * size];
            for (var wave = 0; wave < 5; wave++)
            {
                var (fx, fy) = (random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1);
                var phase = random.NextDouble() * 2 * Math.PI;
                var amplitude = random.NextDouble() + 0.5;
                for (var y = 0; y < size; y++)
                    for (var x = 0; x < size; x++)
                        field[y * size + x] += amplitude * Math.Cos(2 * Math.PI * (fx * x + fy * y) / 16 + phase);
            }
            var (lo, hi) = (field.Min(), field.Max());
            for (var i = 0; i < field.Length; i++) image[c * size * size + i] = (byte)Math.Round(20 + 215 * (field[i] - lo) / (hi - lo));
        }
        return image;
    }

    public static List<byte[]> SmoothImages(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => SmoothImage(random)).ToList();
    }

    public static Tensor Stack(IReadOnlyList<byte[]> images, int channels = Channels, int size = Size) =>
        torch.tensor(images.SelectMany(i => i).ToArray(), [images.Count, channels, size, size]);

    public static string WriteTrain(TempDir dir, IReadOnlyList<byte[]> train, IReadOnlyList<byte[]>? heldOut, string name = "train.safetensors", int channels = Channels, int size = Size)
    {
        using var scope = torch.NewDisposeScope();
        var path = dir.File(name);
        AmbientDiffusion.Data.PreparedDataset.Write(path, Stack(train, channels, size), heldOut is null ? null : Stack(heldOut, channels, size), new { Source = "memorization test" });
        return path;
    }

    public static string WriteSamples(TempDir dir, IReadOnlyList<byte[]> samples, string name = "samples.safetensors", int channels = Channels, int size = Size)
    {
        using var scope = torch.NewDisposeScope();
        var path = dir.File(name);
        var tensor = samples.Count == 0 ? torch.zeros([0, channels, size, size], ScalarType.Byte) : Stack(samples, channels, size);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["samples"] = tensor }, new Dictionary<string, string> { ["format"] = MemorizationInputs.SamplesFormat });
        return path;
    }

    public static string WriteFeatures(TempDir dir, string name, int rows, int width, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var path = dir.File(name);
        var random = new Random(seed);
        var values = Enumerable.Range(0, rows * width).Select(_ => (float)random.NextDouble()).ToArray();
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["features"] = torch.tensor(values, [rows, width]) });
        return path;
    }

    public static byte[] Flip(byte[] image, int channels = Channels, int size = Size)
    {
        var result = new byte[image.Length];
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                    result[(c * size + y) * size + x] = image[(c * size + y) * size + size - 1 - x];
        return result;
    }

    /// <summary>Moved one pixel right (the first column repeated).</summary>
    public static byte[] Shift(byte[] image, int channels = Channels, int size = Size)
    {
        var result = new byte[image.Length];
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                    result[(c * size + y) * size + x] = image[(c * size + y) * size + Math.Max(0, x - 1)];
        return result;
    }

    public static byte[] Noisy(byte[] image, Random random, int amplitude = 4) =>
        image.Select(v => (byte)Math.Clamp(v + random.Next(-amplitude, amplitude + 1), 0, 255)).ToArray();

    public static MemorizationOptions Options(string samples, string train, string output, int downsample = 4) => new()
    {
        SamplesPath = samples,
        TrainPath = train,
        OutputDirectory = output,
        Settings = new MemorizationSettings { Device = "cpu", Downsample = downsample, WorstCount = 4, Knn = new KnnOptions { QueryChunk = 16, ReferenceChunk = 32 } },
    };
}

public class MemorizationAnalyzerTests(ITestOutputHelper output)
{
    private static readonly List<byte[]> Train = MemorizationFixtures.SmoothImages(60, seed: 11);
    private static readonly List<byte[]> HeldOut = MemorizationFixtures.SmoothImages(20, seed: 12);

    private static MemorizationReport Analyse(TempDir dir, IReadOnlyList<byte[]> samples, string name)
    {
        var train = File.Exists(dir.File("train.safetensors")) ? dir.File("train.safetensors") : MemorizationFixtures.WriteTrain(dir, Train, HeldOut);
        var path = MemorizationFixtures.WriteSamples(dir, samples, $"{name}.safetensors");
        return MemorizationAnalyzer.Run(MemorizationFixtures.Options(path, train, dir.File($"report-{name}")));
    }

    private static SetMetrics Samples(MemorizationReport report, string space) => report.Space(space)!.Set(MemorizationAnalyzer.SamplesSet)!;

    [Fact]
    public void Planted_copies_are_flagged_by_the_metrics_meant_for_them()
    {
        using var dir = new TempDir();
        var random = new Random(5);
        var noisy = Analyse(dir, Enumerable.Range(0, 8).Select(i => MemorizationFixtures.Noisy(Train[i * 7], random)).ToList(), "noisy");
        var flipped = Analyse(dir, Enumerable.Range(0, 8).Select(i => MemorizationFixtures.Flip(Train[i * 7 + 1])).ToList(), "flipped");
        var shifted = Analyse(dir, Enumerable.Range(0, 8).Select(i => MemorizationFixtures.Shift(Train[i * 7 + 2])).ToList(), "shifted");
        var novel = Analyse(dir, MemorizationFixtures.SmoothImages(8, seed: 99), "novel");

        foreach (var (name, r) in new[] { ("noisy", noisy), ("flipped", flipped), ("shifted", shifted), ("novel", novel) })
            foreach (var space in r.Spaces)
                foreach (var set in space.Sets)
                    output.WriteLine($"{name} {space.Name} {set.Set}: d1 {set.D1?.Min:F4}..{set.D1?.Max:F4} d2 {set.D2?.Min:F4} <0.05 {set.FracD1Below005} ratio {set.FracRatioBelowThird} carlini {set.FracCarlini} cos {set.Cos1?.Min:F3}..{set.Cos1?.Max:F3}");
        // small noise: d1 tiny, ratio and Carlini test fire, in every pixel space
        Assert.Equal(1.0, Samples(noisy, "pixels").FracD1Below005);
        Assert.Equal(1.0, Samples(noisy, "pixels").FracRatioBelowThird);
        Assert.Equal(1.0, Samples(noisy, "pixels").FracCarlini);
        Assert.Equal(1.0, Samples(noisy, "normalized_cosine").FracCosAbove099);
        Assert.Equal(0, noisy.Worst[0].Neighbors[0].Index % 7);

        // a mirror image: only the flip-invariant space sees it
        Assert.Equal(1.0, Samples(flipped, "flip_invariant").FracD1Below005);
        Assert.Equal(1.0, Samples(flipped, "flip_invariant").FracRatioBelowThird);
        Assert.Equal(0.0, Samples(flipped, "pixels").FracD1Below005);
        Assert.Equal(0.0, Samples(flipped, "pixels").FracRatioBelowThird);

        // a one-pixel shift: the downsampled and cosine spaces see it
        Assert.Equal(1.0, Samples(shifted, "downsampled_4").FracRatioBelowThird);
        Assert.Equal(1.0, Samples(shifted, "downsampled_4").FracCarlini);
        Assert.Equal(1.0, Samples(shifted, "normalized_cosine").FracCosAbove090);
        Assert.True(Samples(shifted, "downsampled_4").D1!.At(50) < Samples(shifted, "pixels").D1!.At(50));

        // new images and the held-out baseline: nothing flagged anywhere
        foreach (var report in new[] { novel, noisy })
        {
            foreach (var set in new[] { report.Space("pixels")!.Set(MemorizationAnalyzer.HeldOutBaseline)!, Samples(novel, "pixels"), Samples(novel, "flip_invariant"), Samples(novel, "downsampled_4") })
            {
                Assert.Equal(0.0, set.FracD1Below005);
                Assert.Equal(0.0, set.FracRatioBelowThird);
                Assert.Equal(0.0, set.FracCarlini);
            }
            Assert.Equal(0.0, report.Space("normalized_cosine")!.Set(MemorizationAnalyzer.HeldOutBaseline)!.FracCosAbove095);
        }
        Assert.Equal(0.0, Samples(novel, "normalized_cosine").FracCosAbove095);
        // the baselines were run on the same training set in every report
        Assert.Equal(60, novel.Space("pixels")!.Set(MemorizationAnalyzer.TrainBaseline)!.Queries);
        Assert.Equal(20, novel.Space("pixels")!.Set(MemorizationAnalyzer.HeldOutBaseline)!.Queries);
    }

    [Fact]
    public void Html_is_well_formed_and_carries_the_json_numbers()
    {
        using var dir = new TempDir();
        var random = new Random(6);
        var samples = Enumerable.Range(0, 6).Select(i => MemorizationFixtures.Noisy(Train[i], random)).Concat(MemorizationFixtures.SmoothImages(6, seed: 7)).ToList();
        var train = MemorizationFixtures.WriteTrain(dir, Train, HeldOut);
        var path = MemorizationFixtures.WriteSamples(dir, samples);
        var output = dir.File("report");
        var options = MemorizationFixtures.Options(path, train, output) with
        {
            FeaturesSamplesPath = MemorizationFixtures.WriteFeatures(dir, "fs.safetensors", samples.Count, 8, 1),
            FeaturesTrainPath = MemorizationFixtures.WriteFeatures(dir, "ft.safetensors", Train.Count, 8, 2),
        };
        MemorizationAnalyzer.Run(options);

        var html = XDocument.Load(XmlReader.Create(Path.Combine(output, "report.html"), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var cells = html.Descendants().Where(e => e.Attribute("data-key") is not null).ToArray();
        Assert.True(cells.Length > 100, $"only {cells.Length} tagged numbers");
        // The page states every rate with its interval, and the training-set audit, as report.json does.
        var keys = cells.Select(c => c.Attribute("data-key")!.Value).ToHashSet();
        Assert.Contains($"/spaces/0/sets/0/intervals/{SetMetrics.FlaggedShareKey}/lo", keys);
        Assert.Contains($"/spaces/0/sets/0/intervals/{SetMetrics.FlaggedShareKey}/hi", keys);
        Assert.Contains("/training_audit/near_duplicates", keys);
        foreach (var cell in cells)
        {
            var element = json.RootElement;
            foreach (var part in cell.Attribute("data-key")!.Value.Trim('/').Split('/'))
                element = element.ValueKind == JsonValueKind.Array ? element[int.Parse(part)] : element.GetProperty(part);
            Assert.Equal(element.GetDouble(), double.Parse(cell.Attribute("data-value")!.Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.Equal(json.RootElement.GetProperty("spaces").GetArrayLength(), html.Descendants(svg + "svg").Count());
        Assert.Contains(json.RootElement.GetProperty("spaces").EnumerateArray(), s => s.GetProperty("name").GetString() == "external");
        XNamespace xhtml = "http://www.w3.org/1999/xhtml";
        bool IsPng(XElement i) => i.Attribute("src")!.Value.StartsWith("data:image/png;base64,", StringComparison.Ordinal);
        var worstTable = html.Descendants(xhtml + "table").Single(t => t.Attribute("class")?.Value == "worst");
        Assert.Equal(4 * 4, worstTable.Descendants(xhtml + "img").Count(IsPng));
        var sampleGrid = html.Descendants(xhtml + "div").Single(d => d.Attribute("class")?.Value == "grid");
        Assert.Equal(Math.Min(MemorizationHtml.SampleGridCount, json.RootElement.GetProperty("inputs").GetProperty("samples").GetProperty("shape")[0].GetInt32()), sampleGrid.Descendants(xhtml + "img").Count(IsPng));
        using (var scope = torch.NewDisposeScope())
        {
            var grid = ImageCodec.DecodeFile(Path.Combine(output, "neighbors.png"));
            Assert.Equal(3, grid.size(2));
        }
        Assert.Equal(MemorizationInputs.Sha256(path), json.RootElement.GetProperty("inputs").GetProperty("samples").GetProperty("sha256").GetString());
    }

    [Fact]
    public void Same_inputs_give_byte_identical_reports()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.WriteTrain(dir, Train, HeldOut);
        var samples = MemorizationFixtures.WriteSamples(dir, MemorizationFixtures.SmoothImages(9, seed: 8).Concat([Train[3]]).ToList());
        var first = MemorizationFixtures.Options(samples, train, dir.File("a")) with { Settings = MemorizationFixtures.Options(samples, train, "").Settings with { BaselineQueries = 25 } };
        MemorizationAnalyzer.Run(first);
        MemorizationAnalyzer.Run(first with { OutputDirectory = dir.File("b") });
        foreach (var file in new[] { "report.json", "report.html", "neighbors.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), file)), File.ReadAllBytes(Path.Combine(dir.File("b"), file)));
        Assert.Empty(Directory.EnumerateFiles(dir.File("a"), "*.tmp", SearchOption.AllDirectories));
        var report = File.ReadAllText(Path.Combine(dir.File("a"), "report.json"));
        Assert.Contains("seeded subset of 25 of 60", report);
    }

    [Fact]
    public void Mismatched_or_empty_inputs_name_the_file_and_what_was_expected()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.WriteTrain(dir, Train, null);
        var output = dir.File("report");

        var gray = MemorizationFixtures.WriteSamples(dir, [new byte[MemorizationFixtures.Size * MemorizationFixtures.Size]], "gray.safetensors", channels: 1);
        var e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(gray, train, output)));
        Assert.Contains(gray, e.Message);
        Assert.Contains("1x16x16", e.Message);
        Assert.Contains("3x16x16", e.Message);

        var small = MemorizationFixtures.WriteSamples(dir, [new byte[3 * 8 * 8]], "small.safetensors", size: 8);
        e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(small, train, output)));
        Assert.Contains("3x8x8", e.Message);

        var empty = MemorizationFixtures.WriteSamples(dir, [], "empty.safetensors");
        e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(empty, train, output)));
        Assert.Contains("empty", e.Message);
        Assert.Contains(empty, e.Message);

        var emptyTrain = MemorizationFixtures.WriteTrain(dir, [], null, "empty-train.safetensors");
        var samples = MemorizationFixtures.WriteSamples(dir, Train.Take(3).ToList());
        e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(samples, emptyTrain, output)));
        Assert.Contains("empty", e.Message);

        var features = MemorizationFixtures.WriteFeatures(dir, "features.safetensors", rows: 5, width: 4, seed: 1);
        var trainFeatures = MemorizationFixtures.WriteFeatures(dir, "train-features.safetensors", rows: 60, width: 4, seed: 2);
        e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(samples, train, output) with { FeaturesSamplesPath = features, FeaturesTrainPath = trainFeatures }));
        Assert.Contains(features, e.Message);
        Assert.Contains("has 5 rows, expected 3", e.Message);

        var narrow = MemorizationFixtures.WriteFeatures(dir, "narrow.safetensors", rows: 3, width: 3, seed: 1);
        e = Assert.Throws<InvalidDataException>(() => MemorizationAnalyzer.Run(MemorizationFixtures.Options(samples, train, output) with { FeaturesSamplesPath = narrow, FeaturesTrainPath = trainFeatures }));
        Assert.Contains("3 columns", e.Message);

        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Cli_runs_and_reports_user_errors_with_exit_1()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.WriteTrain(dir, Train, HeldOut);
        var samples = MemorizationFixtures.WriteSamples(dir, MemorizationFixtures.SmoothImages(5, seed: 9));
        int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);
        Assert.Equal(0, Ambient("memorization", "--help"));
        Assert.Equal(0, Ambient("memorization", "--samples", samples, "--train", train, "--downsample", "4", "--device", "cpu", "-o", dir.File("out")));
        Assert.True(File.Exists(Path.Combine(dir.File("out"), "report.html")));
        Assert.Equal(1, Ambient("memorization", "--samples", dir.File("missing.safetensors"), "--train", train, "-o", dir.File("out2")));
        Assert.Equal(1, Ambient("memorization", "--samples", samples, "--train", samples, "-o", dir.File("out2")));
        Assert.Equal(1, Ambient("memorization", "--samples", samples, "--train", train, "--query-chunk", "0", "-o", dir.File("out2")));
        Assert.False(Directory.Exists(dir.File("out2")));
    }
}
