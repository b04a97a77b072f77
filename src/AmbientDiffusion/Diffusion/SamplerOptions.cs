using System.Text.Json.Serialization;
using AmbientDiffusion.Common;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Settings of EDM's Heun sampler (Karras et al. 2022, Algorithm 2) with optional churn. Defaults are EDM's: 18 steps
/// (35 network evaluations), σ from 80 down to 0.002 spaced evenly in σ^(1/ρ) with ρ = 7, no churn, S_tmax = ∞.
/// The only place these defaults and bounds live (the <c>sampling:</c> section and <c>ambient sample</c> extend it).
/// Class-conditional models add the classifier-free guidance weight and the class selection.
/// </summary>
public record SamplerOptions
{
    /// <summary>Noise levels visited (N in EDM); the network is evaluated 2N − 1 times.</summary>
    public int Steps { get; init; } = 18;

    /// <summary>Smallest noise level of the schedule (replaced by σ_n for the early-stop sampler).</summary>
    public double SigmaMin { get; init; } = 0.002;

    /// <summary>Starting noise level.</summary>
    public double SigmaMax { get; init; } = 80;

    /// <summary>Schedule curvature ρ.</summary>
    public double Rho { get; init; } = 7;

    /// <summary>S_churn: total stochasticity added along the trajectory (0 = deterministic ODE).</summary>
    public double Churn { get; init; }

    /// <summary>S_tmin: churn only at σ ≥ this.</summary>
    public double ChurnMin { get; init; }

    /// <summary>S_tmax: churn only at σ ≤ this.</summary>
    public double ChurnMax { get; init; } = double.PositiveInfinity;

    /// <summary>S_noise: scale of the churn noise (slightly above 1 compensates detail loss).</summary>
    public double ChurnNoise { get; init; } = 1;

    /// <summary>Classifier-free guidance weight g of class-conditional models: D = D_uncond + g·(D_cond − D_uncond), one
    /// network with the null label for D_uncond. 1 is plain conditional sampling (one evaluation per step), 0 unconditional.
    /// Recorded in sample metadata apart from the other options (only for conditional models).</summary>
    [JsonIgnore]
    public double Guidance { get; init; } = 1;

    /// <summary>The class of every sample of a class-conditional model; unset: balanced, class = seed mod label_dim
    /// (<see cref="SampleClasses"/>).</summary>
    [JsonIgnore]
    public int? Class { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public virtual void Validate()
    {
        SettingException.Check(Steps is >= 2 and <= 1000, "steps", Steps, "2 to 1000 steps");
        SettingException.Check(SigmaMin > 0, "sigma_min", SigmaMin, "> 0");
        SettingException.Check(SigmaMax > SigmaMin, "sigma_max", SigmaMax, $"more than sigma_min ({SettingException.Format(SigmaMin)})");
        SettingException.Check(Rho > 0, "rho", Rho, "> 0");
        SettingException.Check(Churn >= 0, "churn", Churn, ">= 0 (0 = deterministic)");
        SettingException.Check(ChurnMax >= ChurnMin && ChurnMin >= 0, "churn_max", ChurnMax, "at least churn_min (>= 0)");
        SettingException.Check(ChurnNoise > 0, "churn_noise", ChurnNoise, "> 0");
        SettingException.Check(Guidance is >= 0 and <= 1000, "guidance", Guidance, "a guidance weight in [0, 1000] (1 = conditional, 0 = unconditional)");
        SettingException.Check(Class is null or >= 0, "class", Class?.ToString() ?? "null", "a class id >= 0, or unset (balanced: seed mod classes)");
    }

    /// <summary>Exactly these settings (a plain copy, whatever derived record holds them): what sample files record.</summary>
    public SamplerOptions ToSamplerOptions() => new()
    {
        Steps = Steps, SigmaMin = SigmaMin, SigmaMax = SigmaMax, Rho = Rho,
        Churn = Churn, ChurnMin = ChurnMin, ChurnMax = ChurnMax, ChurnNoise = ChurnNoise, Guidance = Guidance, Class = Class,
    };
}
