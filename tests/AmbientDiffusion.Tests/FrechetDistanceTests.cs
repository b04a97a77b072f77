using AmbientDiffusion.Memorization;
using AmbientDiffusion.Evaluation.Metrics;

namespace AmbientDiffusion.Tests;

public class FrechetDistanceTests
{
    [Fact]
    public void Frechet_distance_of_a_scaled_and_shifted_copy_has_its_closed_form()
    {
        // b = c·a + s gives Σ_b = c²Σ_a, so tr((Σ_a^½ Σ_b Σ_a^½)^½) = c·tr(Σ_a) and FD = |μ_b − μ_a|² + (1 − c)²·tr(Σ_a),
        // exactly, for the sample moments too.
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var a = torch.randn([400, 6], ScalarType.Float64, generator: generator) * torch.tensor(new double[] { 1, 2, 0.5, 3, 1, 0.1 });
        const double c = 1.7;
        var shift = torch.tensor(new double[] { 0.3, -1, 0, 2, 0.5, 0 });
        var b = a * c + shift;
        var centred = a - a.mean([0]);
        var traceA = centred.square().sum().item<double>() / 399;
        var meanGap = (b.mean([0]) - a.mean([0])).square().sum().item<double>();
        Assert.Equal(meanGap + (1 - c) * (1 - c) * traceA, FrechetDistance.Compute(a, b), 8);
        Assert.Equal(0, FrechetDistance.Compute(a, a), 8);
    }

    [Fact]
    public void Frechet_distance_in_one_dimension_is_the_gap_of_means_and_deviations()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(6);
        var a = torch.randn([300, 1], ScalarType.Float64, generator: generator);
        var b = torch.randn([200, 1], ScalarType.Float64, generator: generator) * 0.4 + 1;
        double Mean(double[] x) => x.Average();
        double Std(double[] x) => Math.Sqrt(x.Sum(v => (v - Mean(x)) * (v - Mean(x))) / (x.Length - 1));
        var (xa, xb) = (a.data<double>(), b.data<double>());
        var expected = Math.Pow(Mean(xa) - Mean(xb), 2) + Math.Pow(Std(xa) - Std(xb), 2);
        Assert.Equal(expected, FrechetDistance.Compute(a, b), 8);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(a, torch.zeros([5, 2], ScalarType.Float64)));
    }
}
