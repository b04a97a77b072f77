using AmbientDiffusion.Common;
using AmbientDiffusion.Inverse;

namespace AmbientDiffusion.Em;

/// <summary>Where round 0's E-step draws its posterior samples from.</summary>
public enum EmInit
{
    /// <summary>A Gaussian fitted to the observations by EM with missing data (DiEM's initialization); its posterior
    /// samples are exact Gaussian conditionals.</summary>
    Gaussian,

    /// <summary>A trained checkpoint (<see cref="EmSettings.Checkpoint"/>), used as a prior by MMPS or DPS: an ambient
    /// model gives ambient → EM.</summary>
    Checkpoint,
}

/// <summary>The dtype of the posterior sampler's state in the E-step.</summary>
public enum PosteriorState
{
    /// <summary>float64, as <c>ambient reconstruct</c> samples.</summary>
    Float64,

    /// <summary>float32 (docs/benchmarks.md measures its speed and the difference in samples).</summary>
    Float32,
}

/// <summary>The covariance of the initial Gaussian.</summary>
public enum GaussianCovariance
{
    /// <summary>Full up to <see cref="EmSettings.FullCovarianceLimit"/> pixels, diagonal above.</summary>
    Auto,

    /// <summary>A full D×D covariance (D = C·H·W).</summary>
    Full,

    /// <summary>A per-pixel variance.</summary>
    Diagonal,
}

/// <summary>
/// The <c>em:</c> section of an experiment: expectation–maximization from corrupted observations (Rozet et al. 2024,
/// "Learning Diffusion Priors from Observations by Expectation Maximization"), run by <c>ambient em</c>. Round k draws
/// posterior samples of every observation under the previous round's model (round 0: the initialization), then trains
/// a plain EDM denoiser on them. Its defaults and bounds live here only; the posterior sampler's own settings are
/// <see cref="ReconstructionOptions"/>'s (<c>em.posterior</c>).
/// </summary>
public sealed record EmSettings
{
    /// <summary>Pixels up to which <see cref="GaussianCovariance.Auto"/> fits a full covariance (64×64 one-channel images;
    /// Fashion-MNIST's 784 are well inside).</summary>
    public const int FullCovarianceLimit = 4096;

    /// <summary>Rounds (E-step then M-step each), numbered from 0.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Round 0's prior.</summary>
    public EmInit Init { get; init; } = EmInit.Gaussian;

    /// <summary>The trained model of <see cref="EmInit.Checkpoint"/>: a checkpoint file or a run directory (its newest checkpoint).</summary>
    public string Checkpoint { get; init; } = "";

    /// <summary>Training of each round's M-step, in thousands of images (round 0 from random weights, later rounds from
    /// the previous round's EMA weights).</summary>
    public double KimgPerRound { get; init; } = 10;

    /// <summary>EM iterations of the initial Gaussian fit (closed form each).</summary>
    public int GaussianIterations { get; init; } = 10;

    /// <summary>The initial Gaussian's covariance.</summary>
    public GaussianCovariance Covariance { get; init; } = GaussianCovariance.Auto;

    /// <summary>Observations per E-step shard: the unit written at once, so an interrupted E-step loses at most one shard.</summary>
    public int ShardSize { get; init; } = 256;

    /// <summary>The posterior sampler (MMPS or DPS, steps, CG iterations, samples per observation
    /// <c>samples_per_measurement</c>, batch size).</summary>
    public ReconstructionOptions Posterior { get; init; } = new();

    /// <summary>The dtype of the posterior sampler's state.</summary>
    public PosteriorState PosteriorState { get; init; } = PosteriorState.Float64;

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Rounds is >= 1 and <= 100, "rounds", Rounds, "1 to 100 rounds");
        SettingException.Check(Enum.IsDefined(Init), "init", Init, Yaml.Choices<EmInit>());
        SettingException.Check(Init != EmInit.Checkpoint || !string.IsNullOrWhiteSpace(Checkpoint), "checkpoint", Checkpoint, "a checkpoint file or run directory when init is checkpoint");
        SettingException.Check(Init == EmInit.Checkpoint || string.IsNullOrWhiteSpace(Checkpoint), "checkpoint", Checkpoint, "empty unless init is checkpoint");
        SettingException.Check(KimgPerRound is > 0 and <= 100_000 && double.IsFinite(KimgPerRound), "kimg_per_round", KimgPerRound, "a positive number of thousands of images, at most 100000");
        SettingException.Check(GaussianIterations is >= 1 and <= 1000, "gaussian_iterations", GaussianIterations, "1 to 1000 iterations");
        SettingException.Check(Enum.IsDefined(Covariance), "covariance", Covariance, Yaml.Choices<GaussianCovariance>());
        SettingException.Check(ShardSize is >= 1 and <= 1_000_000, "shard_size", ShardSize, "1 to 1000000 observations per shard");
        SettingException.Check(Enum.IsDefined(PosteriorState), "posterior_state", PosteriorState, Yaml.Choices<PosteriorState>());
        SettingException.Nested("posterior", Posterior.Validate);
    }

    /// <summary>The em: section of <paramref name="config"/>, or an error naming <paramref name="source"/> (the config
    /// file, or the run's name) when it has none: <c>ambient em</c> and a launcher of it need one.</summary>
    public static EmSettings Of(Config.ExperimentConfig config, string source) =>
        config.Em ?? throw new Config.ConfigException($"{source}: no em section: `ambient em` needs an em: section (see docs/em.md)", "em");

    /// <summary>Whether the initial Gaussian of images with <paramref name="pixels"/> values has a full covariance.</summary>
    public bool FullCovariance(int pixels) => Covariance == GaussianCovariance.Full || (Covariance == GaussianCovariance.Auto && pixels <= FullCovarianceLimit);
}
