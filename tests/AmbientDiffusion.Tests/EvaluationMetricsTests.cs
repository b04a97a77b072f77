using AmbientDiffusion.Memorization;
using System.Text.Json;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>FD, KID and precision/recall/density/coverage against NumPy/SciPy (Fixtures/metrics/reference.py) and
/// against what the definitions imply for identical, shifted and collapsed distributions.</summary>
public class EvaluationMetricsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "metrics");

    private static void Relative(double expected, double actual, double tolerance = 1e-6) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1e-300, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void Metrics_equal_the_numpy_scipy_reference_within_1e_6()
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(Path.Combine(FixtureFolder, "reference.safetensors"));
        double Scalar(string name) => file.GetTensor(name).item<double>();
        var (real, fake) = (file.GetTensor("real"), file.GetTensor("fake"));
        Relative(Scalar("fd"), FrechetDistance.Compute(fake, real));
        Relative(Scalar("mmd2_full"), KernelInceptionDistance.UnbiasedMmd2(fake, real));

        var first = file.GetTensor("kid_first");
        var second = file.GetTensor("kid_second");
        var (subsets, size) = ((int)first.size(0), (int)first.size(1));
        var (f, s) = (first.data<long>(), second.data<long>());
        var schedule = Enumerable.Range(0, subsets).Select(i => new KidSubset(
            f.Skip(i * size).Take(size).Select(v => (int)v).ToArray(), s.Skip(i * size).Take(size).Select(v => (int)v).ToArray())).ToList();
        var kid = KernelInceptionDistance.Compute(fake, real, schedule);
        Relative(Scalar("kid_mean"), kid.Mean);
        Relative(Scalar("kid_std"), kid.Std);
        Assert.Equal((subsets, size), (kid.Subsets, kid.SubsetSize));

        // float32 features go through the same float64 arithmetic: the k-NN search runs in float32, the radii do not.
        foreach (var (r, g) in new[] { (real, fake), (real.to(ScalarType.Float32), fake.to(ScalarType.Float32)) })
        {
            var prdc = PrecisionRecallDensityCoverage.Compute(r, g, k: 5);
            Relative(Scalar("precision"), prdc.Precision);
            Relative(Scalar("recall"), prdc.Recall);
            Relative(Scalar("density"), prdc.Density);
            Relative(Scalar("coverage"), prdc.Coverage);
        }
    }

    [Fact]
    public void Evaluate_by_default_measures_every_sample_against_the_whole_reference_as_scipy_does()
    {
        // Fixtures/metrics/make_evaluation_reference.py: 60 samples against all 60 held-out images, with NumPy/SciPy.
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(Path.Combine(FixtureFolder, "evaluation_reference.safetensors"));
        double Scalar(string name) => file.GetTensor(name).item<double>();
        var prepared = dir.File("data.safetensors");
        AmbientDiffusion.Data.PreparedDataset.Write(prepared, file.GetTensor("train"), file.GetTensor("heldout"), new { Source = "test" });
        SampleSet.Write(dir.File("samples"), file.GetTensor("samples"), Enumerable.Range(0, 60).Select(i => (ulong)i).ToList(), new Dictionary<string, string>());
        var result = QualityEvaluator.Run(new EvaluationOptions
        {
            SamplesPaths = [Path.Combine(dir.File("samples"), SampleSet.TensorFile)], ReferencePath = prepared, ReferenceHeldOut = true, Device = "cpu",
        });

        Relative(Scalar("fd"), result.Fd.Value);
        Relative(Scalar("kid"), result.Kid.Value); // a KID subset as large as both sets is both sets
        Relative(Scalar("precision"), result.Precision.Value);
        Relative(Scalar("recall"), result.Recall.Value);
        Relative(Scalar("density"), result.Density.Value);
        Relative(Scalar("coverage"), result.Coverage.Value);
        Assert.Equal((60, 60), (result.Fd.N, result.Fd.ReferenceN));

        // The floor beside it: two disjoint halves of the held-out images, with its own sizes stated.
        Assert.Equal((30, 30), (result.Fd.FloorN, result.Fd.FloorReferenceN));
        Assert.Equal(30, result.Floor.ReferenceCount);
        Assert.StartsWith("30 vs 30 real images", result.Floor.Description, StringComparison.Ordinal);
        Assert.Equal("60 vs 60 images (floor: 30 vs 30 real images)", result.Kid.Sizes);
        var real = file.GetTensor("heldout").to(ScalarType.Float32).div(255).reshape(60, 36);
        var (halfRows, floorRows) = QualityEvaluator.SplitHalves(60, 60, seed: 0);
        Tensor Rows(int[] rows) => real.index_select(0, torch.tensor(rows.Select(r => (long)r).ToArray()));
        Relative(FrechetDistance.Compute(Rows(floorRows), Rows(halfRows)), result.Fd.Floor, 1e-12);
    }

    [Fact]
    public void Kid_schedule_is_seeded_distinct_and_capped_at_the_smaller_set()
    {
        var a = KernelInceptionDistance.Schedule(300, 40, seed: 7, subsets: 4, maxSubsetSize: 1000);
        var b = KernelInceptionDistance.Schedule(300, 40, seed: 7, subsets: 4, maxSubsetSize: 1000);
        var c = KernelInceptionDistance.Schedule(300, 40, seed: 8, subsets: 4, maxSubsetSize: 1000);
        Assert.Equal(4, a.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].First, b[i].First);
            Assert.Equal(a[i].Second, b[i].Second);
            Assert.Equal(40, a[i].First.Length);
            Assert.Equal(40, a[i].First.Distinct().Count());
            Assert.All(a[i].First, row => Assert.InRange(row, 0, 299));
            Assert.Equal(Enumerable.Range(0, 40), a[i].Second.Order()); // all 40 rows of the smaller set
        }
        Assert.NotEqual(a[0].First, c[0].First);
        Assert.NotEqual(a[0].First, a[1].First);

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(3);
        var x = torch.randn([300, 8], ScalarType.Float64, generator: generator);
        var y = torch.randn([40, 8], ScalarType.Float64, generator: generator);
        Assert.Equal(KernelInceptionDistance.Compute(x, y, a), KernelInceptionDistance.Compute(x, y, seed: 7, subsets: 4));
    }

    [Fact]
    public void Identical_distributions_in_1000_d_score_at_the_floor_and_as_the_reference_measured()
    {
        // Three disjoint standard-normal sets of 1000 rows in 1000-d: samples a and floor c, both against reference b.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        var all = torch.randn([3000, 1000], generator: generator);
        var (a, b, c) = (all.narrow(0, 0, 1000), all.narrow(0, 1000, 1000), all.narrow(0, 2000, 1000));
        var fd = FrechetDistance.Compute(a, b);
        var floor = FrechetDistance.Compute(c, b);
        Assert.True(Math.Abs(fd - floor) < 0.02 * floor, $"FD {fd} against its floor {floor}");
        var kid = KernelInceptionDistance.Compute(a, b, seed: 0, subsets: 3);
        Assert.Equal(0, kid.Std); // subsets of the whole sets: one MMD² stands for all
        Assert.True(Math.Abs(kid.Mean) < 1e-3, $"KID {kid.Mean}");

        var prdc = PrecisionRecallDensityCoverage.Compute(b, a);
        output.WriteLine($"1000 x 1000-d identical: FD {fd:G6} (floor {floor:G6}), KID {kid.Mean:G4}, {prdc}");
        using var sanity = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureFolder, "sanity.json")));
        double Measured(string group, string key) => sanity.RootElement.GetProperty(group).GetProperty(key).GetDouble();
        // Precision and recall of identical distributions are not 0.5 at this size and width: the reference measures
        // ~0.58-0.60 (8 draws); agree with it within 4 of its standard deviations.
        foreach (var (key, value) in new[] { ("precision", prdc.Precision), ("recall", prdc.Recall) })
            Assert.True(Math.Abs(value - Measured("mean", key)) < 4 * Measured("std", key), $"{key} {value} against the reference's {Measured("mean", key)} ± {Measured("std", key)}");
        // Density's expectation is exactly 1, coverage's 1 − Π_{i<k} (N−1−i)/(N+M−1−i) ≈ 0.969 (Naeem et al. 2020);
        // density has a wide spread in high dimension (hubness), coverage a narrow one.
        Assert.True(Math.Abs(prdc.Density - 1) < 4 * Measured("std", "density"), $"density {prdc.Density}");
        var coverageExpected = 1 - Enumerable.Range(0, 5).Aggregate(1.0, (p, i) => p * (999.0 - i) / (1999 - i));
        Assert.Equal(sanity.RootElement.GetProperty("coverage_expected").GetDouble(), coverageExpected, 12);
        Assert.True(Math.Abs(prdc.Coverage - coverageExpected) < 4 * Measured("std", "coverage"), $"coverage {prdc.Coverage} against {coverageExpected}");
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void A_shifted_set_scores_worse_than_the_floor_and_a_collapsed_set_loses_recall_and_coverage()
    {
        // Ten well-separated Gaussian clusters in 32-d: reference, floor and good samples drawn alike.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var centres = torch.randn([10, 32], ScalarType.Float64, generator: generator) * 4;
        Tensor Draw(int n, int clusters) =>
            centres.index_select(0, torch.randint(0, clusters, [n], ScalarType.Int64, generator: generator)) + torch.randn([n, 32], ScalarType.Float64, generator: generator);
        var reference = Draw(600, 10);
        var floorSet = Draw(400, 10);
        var shifted = Draw(400, 10) + 1.5;
        var collapsed = Draw(400, 2);

        var floorFd = FrechetDistance.Compute(floorSet, reference);
        var floorKid = KernelInceptionDistance.Compute(floorSet, reference, seed: 1, subsets: 10, maxSubsetSize: 200);
        var floorPrdc = PrecisionRecallDensityCoverage.Compute(reference, floorSet);
        Assert.True(FrechetDistance.Compute(shifted, reference) > 10 * floorFd);
        Assert.True(KernelInceptionDistance.Compute(shifted, reference, seed: 1, subsets: 10, maxSubsetSize: 200).Mean > floorKid.Mean + 10 * floorKid.Std);
        var shiftedPrdc = PrecisionRecallDensityCoverage.Compute(reference, shifted);
        Assert.True(shiftedPrdc.Precision < floorPrdc.Precision - 0.3, $"precision {shiftedPrdc.Precision} against the floor's {floorPrdc.Precision}");
        Assert.True(shiftedPrdc.Density < floorPrdc.Density / 2);

        var collapsedPrdc = PrecisionRecallDensityCoverage.Compute(reference, collapsed);
        Assert.True(collapsedPrdc.Recall < floorPrdc.Recall - 0.5, $"recall {collapsedPrdc.Recall} against the floor's {floorPrdc.Recall}");
        Assert.True(collapsedPrdc.Coverage < floorPrdc.Coverage - 0.5, $"coverage {collapsedPrdc.Coverage} against the floor's {floorPrdc.Coverage}");
        Assert.True(collapsedPrdc.Precision > 0.8, $"a collapsed set stays precise: {collapsedPrdc.Precision}");
    }

    [Fact]
    public void Bad_feature_sets_give_errors_naming_the_problem()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn([20, 4], ScalarType.Float64);
        var wide = torch.randn([20, 5], ScalarType.Float64);
        var empty = torch.zeros([0, 4], ScalarType.Float64);
        Assert.Contains("widths differ", Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, wide)).Message);
        Assert.Contains("widths differ", Assert.Throws<ArgumentException>(() => KernelInceptionDistance.Compute(a, wide, seed: 0)).Message);
        Assert.Contains("widths differ", Assert.Throws<ArgumentException>(() => PrecisionRecallDensityCoverage.Compute(a, wide)).Message);
        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, empty)).Message);
        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => KernelInceptionDistance.UnbiasedMmd2(empty, a)).Message);
        Assert.Contains("at least 6 rows", Assert.Throws<ArgumentException>(() => PrecisionRecallDensityCoverage.Compute(a, a.narrow(0, 0, 5))).Message);
        Assert.Contains("k = 0", Assert.Throws<ArgumentException>(() => PrecisionRecallDensityCoverage.Compute(a, a, k: 0)).Message);
        var nan = a.clone();
        nan.narrow(0, 3, 1).fill_(double.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => PrecisionRecallDensityCoverage.Compute(a, nan)).Message);
        Assert.Contains("[20]", Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, torch.zeros([20], ScalarType.Float64))).Message);
    }

    [Fact]
    public void Seeds_are_written_as_ranges()
    {
        Assert.Equal("0-49999", SeedRanges.Format(Enumerable.Range(0, 50_000).Select(i => (long)i).ToList()));
        Assert.Equal("0-9,20,30-39", SeedRanges.Format([.. Enumerable.Range(0, 10).Select(i => (long)i), 20, .. Enumerable.Range(30, 10).Select(i => (long)i)]));
        Assert.Equal("none", SeedRanges.Format([]));
        Assert.EndsWith("(1 more seeds)", SeedRanges.Format(Enumerable.Range(0, SeedRanges.MaxRanges + 1).Select(i => 2L * i).ToList()));
    }

    [Fact]
    public void The_floor_split_is_two_disjoint_seeded_halves()
    {
        var (reference, floor) = QualityEvaluator.SplitHalves(101, 30, seed: 4);
        Assert.Equal(50, reference.Length);
        Assert.Equal(30, floor.Length);
        Assert.Empty(reference.Intersect(floor));
        Assert.Equal(QualityEvaluator.SplitHalves(101, 30, seed: 4), (reference, floor), new SplitComparer());
        var (all, half) = QualityEvaluator.SplitHalves(100, 1000, seed: 4);
        Assert.Equal(50, half.Length); // the floor set stops at the half
        Assert.Equal(Enumerable.Range(0, 100), all.Concat(half).Order());
    }

    private sealed class SplitComparer : IEqualityComparer<(int[], int[])>
    {
        public bool Equals((int[], int[]) x, (int[], int[]) y) => x.Item1.SequenceEqual(y.Item1) && x.Item2.SequenceEqual(y.Item2);

        public int GetHashCode((int[], int[]) obj) => obj.Item1.Length;
    }
}
