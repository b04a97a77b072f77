using System.Text.Json;
using System.Text.Json.Serialization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;

namespace AmbientDiffusion.Inverse;

/// <summary>How the prior is conditioned on the measurement.</summary>
public enum PosteriorMethod
{
    /// <summary>Diffusion posterior sampling (Chung et al. 2023): a step down the gradient of ‖y − A D(x_t)‖ after each Heun step.</summary>
    Dps,
    /// <summary>Moment-matching posterior sampling (Rozet et al. 2024): D(x_t) replaced by E[x | x_t, y] under a Gaussian with covariance σ²J.</summary>
    Mmps,
}

/// <summary>How MMPS applies the denoiser's Jacobian J = ∂D/∂x to a vector.</summary>
public enum JacobianProduct
{
    /// <summary>Reverse mode: Jᵀv by one backward pass (equals J·v when J is symmetric, as for an exact denoiser).</summary>
    Reverse,
    /// <summary>Forward difference: (D(x + εv) − D(x))/ε, J·v itself for any denoiser, one extra forward pass.</summary>
    Forward,
    /// <summary><see cref="Forward"/> for ambient (fixed-mask) priors, whose J is not symmetric, <see cref="Reverse"/> otherwise.</summary>
    Auto,
}

/// <summary>
/// Settings of <c>ambient reconstruct</c>: EDM's Heun schedule (<see cref="SamplerOptions"/>, deterministic: no churn)
/// plus the guidance. The only place their defaults and bounds live.
/// </summary>
public sealed record ReconstructionOptions : SamplerOptions
{
    /// <summary>The posterior method.</summary>
    public PosteriorMethod Method { get; init; } = PosteriorMethod.Mmps;

    /// <summary>ζ of DPS: the step along −∇‖y − A D(x_t)‖ taken at every step.</summary>
    public double GuidanceScale { get; init; } = 10.0;

    /// <summary>Conjugate-gradient iterations of MMPS (each one vector-Jacobian product).</summary>
    public int CgIterations { get; init; } = 2;

    /// <summary>How MMPS applies the Jacobian.</summary>
    public JacobianProduct Jacobian { get; init; } = JacobianProduct.Auto;

    /// <summary>Floor of MMPS's measurement standard deviation: Σ_y = max(σ_y, this)² I keeps noiseless systems well posed.</summary>
    public double MinMeasurementSigma { get; init; } = 0.01;

    /// <summary>Posterior samples drawn per measurement (each with its own seed).</summary>
    public int SamplesPerMeasurement { get; init; } = 1;

    /// <summary>Samples per network call; does not change the samples.</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>These settings as JSON (snake_case keys, enum names), for reports and sample metadata.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new(Data.ProvenanceJson.Options)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        SettingException.Check(Churn == 0, "churn", Churn, "0: reconstruction runs the deterministic Heun sampler");
        SettingException.Check(Enum.IsDefined(Method), "method", Method, Yaml.Choices<PosteriorMethod>());
        SettingException.Check(Enum.IsDefined(Jacobian), "jacobian", Jacobian, Yaml.Choices<JacobianProduct>());
        SettingException.Check(GuidanceScale >= 0 && double.IsFinite(GuidanceScale), "guidance_scale", GuidanceScale, "a finite step >= 0 (0: unguided)");
        SettingException.Check(CgIterations is >= 1 and <= 100, "cg_iterations", CgIterations, "1 to 100");
        SettingException.Check(MinMeasurementSigma is > 0 and <= 1, "min_measurement_sigma", MinMeasurementSigma, "a level in (0, 1]");
        SettingException.Check(SamplesPerMeasurement is >= 1 and <= 1000, "samples", SamplesPerMeasurement, "1 to 1000 per measurement");
        SettingException.Check(BatchSize is >= 1 and <= 4096, "batch", BatchSize, "1 to 4096");
    }
}
