using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Em;
using Xunit.Abstractions;

namespace AmbientDiffusion.Tests;

/// <summary>
/// EM on the analytic Gaussian data of <see cref="GaussianTheoryTests"/> (x ~ N(μ, Σ) as 4×4 images, half the pixels
/// removed): one EM round (the Gaussian fit, its exact posterior samples, one M-step of plain EDM) against the naive
/// model trained on the same observations for the same steps.
/// </summary>
public class EmGaussianTheoryTests(ITestOutputHelper output)
{
    private const int Dim = 16;

    /// <summary>Training steps of each model: few, so the test takes seconds; the naive model's error is bias, which
    /// more steps would not remove.</summary>
    private const int Steps = 300;

    /// <summary>The Gaussian fitted by EM with missing data to 4096 observations with half their pixels removed.</summary>
    private static (string Data, GaussianObservations Observations, GaussianModel Fit) Fitted(TempDir dir)
    {
        var data = GaussianTheoryTests.CorruptedGaussianData(dir, new PixelMask(0.5));
        GaussianObservations observations;
        using (var corrupted = CorruptedDataset.Open(data)) observations = GaussianObservations.Read(corrupted);
        return (data, observations, GaussianFit.Fit(observations, iterations: 20, full: true));
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void The_Gaussian_initialization_recovers_the_clean_moments_that_the_zero_filled_data_miss()
    {
        using var dir = new TempDir();
        var (_, observations, fit) = Fitted(dir);
        var (mu, sigma) = GaussianTheoryTests.Distribution();
        // The moments of the zero-filled observations are what the naive model's training data have.
        var (naiveMean, naiveCovariance) = Moments(observations);
        var emDistance = Distance(mu, sigma, fit.Mean, fit.At);
        var naiveDistance = Distance(mu, sigma, naiveMean, (i, j) => naiveCovariance[i * Dim + j]);
        output.WriteLine($"moment distance to the truth: EM Gaussian {emDistance:E3}, zero-filled data {naiveDistance:E3}");
        // 4096 observations with 8 values each on average: the fit's error is sampling noise (about 1e-3 here), the
        // zero fill's is bias (mean shrunk by half, covariance by a quarter: about 0.1). A factor 10 holds with room.
        Assert.True(naiveDistance > 10 * emDistance, $"EM's Gaussian {emDistance:E3} should be far closer than the zero-filled moments {naiveDistance:E3}");
    }

    [Trait(TestPrecision.Category, TestPrecision.Statistical)]
    [Fact]
    public void One_EM_round_with_a_small_network_learns_the_clean_posterior_far_better_than_the_naive_model()
    {
        using var dir = new TempDir();
        var (data, _, fit) = Fitted(dir);
        // One round: the exact posterior samples of the fitted Gaussian as the M-step's data, then plain EDM on them.
        using var posterior = new GaussianPosterior(fit);
        Assert.True(EStep.Run(data, posterior, new EStepPlan(1, 512, 1024, 3, 0), dir.File("estep")));
        var posteriorData = dir.File("posterior.safetensors");
        using (var scope = torch.NewDisposeScope())
            PosteriorDataset.Write(posteriorData, EStep.Read(dir.File("estep"), 4), data, 1, 0, posterior.Describe());
        var sigmas = new[] { 0.2, 0.5, 1.0 };
        using var em = GaussianTheoryTests.Train(dir, GaussianTheoryTests.SmallConfig(posteriorData, "edm", steps: Steps));
        var (emError, _) = GaussianTheoryTests.PosteriorError(em, sigmas, keep: 1.0, maskInput: false);
        using var naive = GaussianTheoryTests.Train(dir, GaussianTheoryTests.SmallConfig(data, "naive", steps: Steps));
        var (naiveError, _) = GaussianTheoryTests.PosteriorError(naive, sigmas, keep: 1.0, maskInput: false);
        output.WriteLine($"mean squared distance to the clean posterior mean E[x0 | x0 + σz]: EM round 0 {emError:E3}, naive {naiveError:E3}, ratio {naiveError / emError:F1}");
        // The naive model learns the zero-filled distribution, a bias no training removes; EM's model learns from exact
        // samples of the fitted Gaussian, limited by 300 steps of a small network. Margin: a factor 4 (as the ambient test).
        Assert.True(naiveError > 4 * emError, $"EM {emError:E3} should be several times closer than naive {naiveError:E3}");
    }

    /// <summary>Mean and covariance of the zero-filled observations.</summary>
    private static (double[] Mean, double[] Covariance) Moments(GaussianObservations data)
    {
        var mean = new double[Dim];
        var covariance = new double[Dim * Dim];
        for (var i = 0; i < data.Count; i++)
            for (var k = 0; k < Dim; k++) mean[k] += data.Values[i * Dim + k] / data.Count;
        for (var i = 0; i < data.Count; i++)
            for (var a = 0; a < Dim; a++)
                for (var b = 0; b < Dim; b++)
                    covariance[a * Dim + b] += (data.Values[i * Dim + a] - mean[a]) * (data.Values[i * Dim + b] - mean[b]) / data.Count;
        return (mean, covariance);
    }

    /// <summary>‖μ − m‖² + ‖Σ − S‖²_F.</summary>
    private static double Distance(double[] mu, double[,] sigma, double[] mean, Func<int, int, double> covariance)
    {
        var total = 0.0;
        for (var i = 0; i < Dim; i++)
        {
            total += (mu[i] - mean[i]) * (mu[i] - mean[i]);
            for (var j = 0; j < Dim; j++) total += (sigma[i, j] - covariance(i, j)) * (sigma[i, j] - covariance(i, j));
        }
        return total;
    }
}
