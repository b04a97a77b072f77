using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;

namespace AmbientDiffusion.Diffusion;

/// <summary>The training objectives (ambient-spec §2-3).</summary>
public enum LossKind
{
    /// <summary>EDM on clean data.</summary>
    Edm,

    /// <summary>EDM on the corrupted data as stored: the paper's baseline.</summary>
    Naive,

    /// <summary>The ambient objective for masked data (<see cref="AmbientLoss"/>).</summary>
    Ambient,

    /// <summary>Ambient score matching with Tweedie's formula for noisy data (<see cref="TweedieLoss"/>).</summary>
    Tweedie,
}

/// <summary>The objective as configured (the <c>loss:</c> section): its defaults and bounds live here only.</summary>
public sealed record LossSettings
{
    /// <summary>Which objective.</summary>
    public LossKind Kind { get; init; } = LossKind.Ambient;

    /// <summary>Further corruption δ of the ambient loss.</summary>
    public double Delta { get; init; } = 0.1;

    /// <summary>Redrawn every step (default) or fixed per image (as the official code).</summary>
    public FurtherCorruptionMode FurtherCorruption { get; init; } = FurtherCorruptionMode.Redraw;

    /// <summary>How the trainer reduces the loss terms.</summary>
    public LossReduction Reduction { get; init; } = LossReduction.Sum;

    /// <summary>Mean of ln σ during training (EDM's P_mean).</summary>
    public double PMean { get; init; } = -1.2;

    /// <summary>Spread of ln σ during training (EDM's P_std).</summary>
    public double PStd { get; init; } = 1.2;

    /// <summary>Weighting of the Tweedie terms.</summary>
    public TweedieWeighting TweedieWeighting { get; init; } = TweedieWeighting.Lambda;

    /// <summary>Weight λ_c of the consistency term (tweedie only; 0 turns it off).</summary>
    public double ConsistencyWeight { get; init; }

    /// <summary>Reverse-SDE steps of the consistency term.</summary>
    public int ConsistencySteps { get; init; } = 3;

    /// <summary>Tweedie only: σ is drawn above this multiple of each image's σ_n (null: 1, the plain Tweedie loss).
    /// Ambient-Omni's √(4/3) keeps noisy-data images away from the σ just above their own level (the loop's ambient arm).</summary>
    public double? SigmaFloorFactor { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Enum.IsDefined(Kind), "kind", Kind, Yaml.Choices<LossKind>());
        if (Kind == LossKind.Ambient)
            SettingException.Check(Delta is > 0 and < 1, "delta", Delta, Delta == 0
                ? "delta > 0: with no further corruption the ambient objective learns nothing about the removed pixels (the paper uses 0.1; or use the naive loss)"
                : "a probability in (0, 1)");
        SettingException.Check(PStd > 0 && double.IsFinite(PMean), "p_std", PStd, "a positive spread of ln σ");
        SettingException.Check(ConsistencyWeight >= 0, "consistency_weight", ConsistencyWeight, "a weight >= 0");
        SettingException.Check(ConsistencySteps is >= 1 and <= 100, "consistency_steps", ConsistencySteps, "1 to 100 steps");
        SettingException.Check(SigmaFloorFactor is null or (>= 1 and <= 100), "sigma_floor_factor", SigmaFloorFactor, "a factor from 1 to 100 (or unset)");
        SettingException.Check(SigmaFloorFactor is null || Kind == LossKind.Tweedie, "sigma_floor_factor", SigmaFloorFactor, "unset unless kind is tweedie");
        SettingException.Check(ConsistencyWeight == 0 || Kind == LossKind.Tweedie, "consistency_weight", ConsistencyWeight, "0 unless kind is tweedie");
    }
}
