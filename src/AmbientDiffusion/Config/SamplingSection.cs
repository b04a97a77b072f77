using AmbientDiffusion.Diffusion;

namespace AmbientDiffusion.Config;

/// <summary>Samples drawn from the EMA weights after training (ambient-spec §5), written to runs/&lt;name&gt;/samples.</summary>
public sealed class SamplingSection
{
    /// <summary>Seeds, one sample each, e.g. <c>0-999</c> (empty: draw no samples).</summary>
    public string Seeds { get; set; } = "0-999";

    /// <summary>Samples per network call (does not change the samples).</summary>
    public int BatchSize { get; set; } = 64;

#pragma warning disable CS1591
    public int Steps { get; set; } = 18;
    public double SigmaMin { get; set; } = 0.002;
    public double SigmaMax { get; set; } = 80;
    public double Rho { get; set; } = 7;
    public double Churn { get; set; }
    public double ChurnMin { get; set; }
    public double ChurnMax { get; set; } = 1e6;
    public double ChurnNoise { get; set; } = 1;
#pragma warning restore CS1591

    /// <summary>Use the EMA weights (false: the raw training weights).</summary>
    public bool Ema { get; set; } = true;

    /// <summary>Samples shown in grid.png.</summary>
    public int Grid { get; set; } = 64;

    /// <summary>Also write one PNG per sample.</summary>
    public bool Png { get; set; }

    /// <summary>The seed list (empty when sampling is off).</summary>
    public IReadOnlyList<ulong> SeedList() => string.IsNullOrWhiteSpace(Seeds) ? [] : Sampling.SampleSet.ParseSeeds(Seeds);

    /// <summary>The sampler settings.</summary>
    public SamplerOptions ToOptions() => new()
    {
        Steps = Steps, SigmaMin = SigmaMin, SigmaMax = SigmaMax, Rho = Rho,
        Churn = Churn, ChurnMin = ChurnMin, ChurnMax = ChurnMax, ChurnNoise = ChurnNoise,
    };

    internal void Validate()
    {
        try
        {
            SeedList();
        }
        catch (ArgumentException e)
        {
            ExperimentConfig.Fail("sampling.seeds", Seeds, "seeds such as 0-999 or 1,5,7 (" + e.Message.Replace("--seeds ", "", StringComparison.Ordinal) + ")");
        }
        ExperimentConfig.Check(BatchSize is >= 1 and <= 65536, "sampling.batch_size", BatchSize, "1 to 65536 samples");
        ExperimentConfig.Check(Steps is >= 2 and <= 1000, "sampling.steps", Steps, "2 to 1000 steps");
        ExperimentConfig.Check(SigmaMin > 0, "sampling.sigma_min", SigmaMin, "> 0");
        ExperimentConfig.Check(SigmaMax > SigmaMin, "sampling.sigma_max", SigmaMax, $"more than sampling.sigma_min ({ExperimentConfig.Format(SigmaMin)})");
        ExperimentConfig.Check(Rho > 0, "sampling.rho", Rho, "> 0");
        ExperimentConfig.Check(Churn >= 0, "sampling.churn", Churn, ">= 0 (0 = deterministic)");
        ExperimentConfig.Check(ChurnMax >= ChurnMin && ChurnMin >= 0, "sampling.churn_max", ChurnMax, "at least sampling.churn_min (>= 0)");
        ExperimentConfig.Check(ChurnNoise > 0, "sampling.churn_noise", ChurnNoise, "> 0");
        ExperimentConfig.Check(Grid is >= 1 and <= 4096, "sampling.grid", Grid, "1 to 4096 samples");
    }
}
