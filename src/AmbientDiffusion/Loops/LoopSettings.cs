using AmbientDiffusion.Common;

namespace AmbientDiffusion.Loops;

/// <summary>What each later generation of a self-consuming loop trains on, besides generation 1's real images
/// (Alemohammad et al. 2024, "Self-Consuming Generative Models Go MAD"; accumulate after Gerstgrasser et al. 2024).</summary>
public enum LoopType
{
    /// <summary>Only the previous generation's samples.</summary>
    FullySynthetic,

    /// <summary>A fixed real set plus the previous generation's samples.</summary>
    Augment,

    /// <summary>A fresh real draw (disjoint from every earlier one) plus the previous generation's samples.</summary>
    Fresh,

    /// <summary>The real set plus every earlier generation's samples.</summary>
    Accumulate,
}

/// <summary>How a later generation's network starts.</summary>
public enum RetrainMode
{
    /// <summary>From new random weights (the run's seed), as generation 1.</summary>
    Scratch,

    /// <summary>From the previous generation's EMA weights.</summary>
    Finetune,
}

/// <summary>How synthetic images enter training.</summary>
public enum SyntheticUse
{
    /// <summary>As clean data, at every σ, with the real images' loss.</summary>
    Data,

    /// <summary>The ambient arm (Ambient-Omni, Daras et al. 2025): as noisy data x + σ_tn·z, used only at
    /// σ &gt; σ_tn·√(s_max/(s_max − 1)) with the Tweedie loss; real images train at every σ.</summary>
    Noisy,
}

/// <summary>
/// The <c>loop:</c> section of an experiment: a self-consuming loop of <see cref="Generations"/> generations. Its
/// defaults and bounds live here only; bounds that need the data (enough real images for the draws) are checked by
/// <see cref="LoopComposition"/>.
/// </summary>
public sealed record LoopSettings
{
    /// <summary>Ambient-Omni's s_max: a noisy-data image is used at σ only above σ_tn·√(s_max/(s_max − 1)).</summary>
    public const double AmbientOmniSMax = 4;

    /// <summary>√(s_max/(s_max − 1)) = √(4/3): the factor between σ_tn and the lowest σ a synthetic image trains at.</summary>
    public static double SigmaFloorFactor => Math.Sqrt(1 + 1 / (AmbientOmniSMax - 1));

    /// <summary>The loop type.</summary>
    public LoopType Type { get; init; } = LoopType.FullySynthetic;

    /// <summary>Generations, the first trained on real images only.</summary>
    public int Generations { get; init; } = 5;

    /// <summary>Samples each generation draws (the next generation's synthetic set).</summary>
    public int SyntheticCount { get; init; } = 1000;

    /// <summary>Real images per generation (0: <see cref="RealFraction"/> of the prepared training images).</summary>
    public int RealCount { get; init; }

    /// <summary>Fraction of the prepared training images used as the real set when <see cref="RealCount"/> is 0.</summary>
    public double RealFraction { get; init; } = 1;

    /// <summary>Guidance g of the sampling that makes the synthetic sets (MAD's sampling bias λ = 1/g; g &gt; 1 needs a
    /// class-conditional model).</summary>
    public double Guidance { get; init; } = 1;

    /// <summary>How later generations start.</summary>
    public RetrainMode Retrain { get; init; } = RetrainMode.Scratch;

    /// <summary>How synthetic images enter training.</summary>
    public SyntheticUse SyntheticAs { get; init; } = SyntheticUse.Data;

    /// <summary>σ_tn of every synthetic image in the ambient arm (in [-1, 1] pixel units; 0 makes the arm plain augment).</summary>
    public double SigmaTn { get; init; }

    /// <summary>Estimate σ_tn per synthetic image with a noise-conditional real-vs-synthetic classifier instead
    /// (<see cref="SigmaTnEstimator"/>).</summary>
    public bool SigmaTnEstimate { get; init; }

    /// <summary>A labelled real test source (e.g. <c>fashion-mnist:test</c>) for the Classification Accuracy Score of each
    /// generation of a class-conditional loop; empty: no CAS.</summary>
    public string CasTest { get; init; } = "";

    /// <summary>The labelled real training source of the CAS baseline (empty: the one <c>ambient cas</c> pairs with
    /// <see cref="CasTest"/>, e.g. fashion-mnist for fashion-mnist:test).</summary>
    public string CasTrain { get; init; } = "";

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Enum.IsDefined(Type), "type", Type, Yaml.Choices<LoopType>());
        SettingException.Check(Generations is >= 1 and <= 100, "generations", Generations, "1 to 100 generations");
        SettingException.Check(SyntheticCount is >= 1 and <= 10_000_000, "synthetic_count", SyntheticCount, "1 to 10000000 samples per generation");
        SettingException.Check(RealCount >= 0, "real_count", RealCount, "0 (use real_fraction) or a positive number of real images");
        SettingException.Check(RealFraction is > 0 and <= 1, "real_fraction", RealFraction, "a fraction in (0, 1]");
        SettingException.Check(RealCount == 0 || RealFraction == 1, "real_fraction", RealFraction, "1 (unset) when real_count is given: set one of the two");
        SettingException.Check(Guidance is >= 1 and <= 100 && double.IsFinite(Guidance), "guidance", Guidance, "a guidance g from 1 (no bias) to 100 (λ = 1/g)");
        SettingException.Check(Enum.IsDefined(Retrain), "retrain", Retrain, Yaml.Choices<RetrainMode>());
        SettingException.Check(Enum.IsDefined(SyntheticAs), "synthetic_as", SyntheticAs, Yaml.Choices<SyntheticUse>());
        SettingException.Check(SigmaTn >= 0 && double.IsFinite(SigmaTn), "sigma_tn", SigmaTn, "a noise level >= 0");
        SettingException.Check(SigmaTn == 0 || SyntheticAs == SyntheticUse.Noisy, "sigma_tn", SigmaTn, "0 unless synthetic_as is noisy");
        SettingException.Check(!SigmaTnEstimate || SyntheticAs == SyntheticUse.Noisy, "sigma_tn_estimate", SigmaTnEstimate, "false unless synthetic_as is noisy");
        SettingException.Check(!SigmaTnEstimate || SigmaTn == 0, "sigma_tn", SigmaTn, "0 (unset) when sigma_tn_estimate is true: set one of the two");
        SettingException.Check(CasTrain.Length == 0 || CasTest.Length > 0, "cas_train", CasTrain, "empty unless cas_test names the real test source");
        SettingException.Check(CasTest.Length == 0 || CasTrain.Length > 0 || Classification.ClassificationAccuracyScore.DefaultRealTrain(CasTest) is not null, "cas_train", CasTrain,
            $"a labelled real training source: {CasTest} has no default one");
    }
}
