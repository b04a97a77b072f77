namespace AmbientDiffusion.Config;

/// <summary>The objective (ambient-spec §2-3).</summary>
public sealed class LossSection
{
    /// <summary>edm, naive, ambient or tweedie.</summary>
    public string Kind { get; set; } = "ambient";

    /// <summary>Further corruption δ of the ambient loss.</summary>
    public double Delta { get; set; } = 0.1;

    /// <summary>redraw (every step, default) or fixed (per image, as the official code).</summary>
    public string FurtherCorruption { get; set; } = "redraw";

    /// <summary>sum (over pixels, mean over batch; default) or mean_observed.</summary>
    public string Reduction { get; set; } = "sum";

#pragma warning disable CS1591
    public double PMean { get; set; } = -1.2;
    public double PStd { get; set; } = 1.2;
    public string TweedieWeighting { get; set; } = "lambda";
    public double ConsistencyWeight { get; set; }
    public int ConsistencySteps { get; set; } = 3;
#pragma warning restore CS1591

    internal void Validate()
    {
        ExperimentConfig.Check(Kind is "edm" or "naive" or "ambient" or "tweedie", "loss.kind", Kind, "edm, naive, ambient or tweedie");
        if (Kind == "ambient") ExperimentConfig.Check(Delta is > 0 and < 1, "loss.delta", Delta, Delta == 0 ? "delta > 0: with no further corruption the ambient objective learns nothing about the removed pixels (the paper uses 0.1)" : "a probability in (0, 1)");
        ExperimentConfig.Check(FurtherCorruption is "redraw" or "fixed", "loss.further_corruption", FurtherCorruption, "redraw or fixed");
        ExperimentConfig.Check(Reduction is "sum" or "mean_observed", "loss.reduction", Reduction, "sum or mean_observed");
        ExperimentConfig.Check(PStd > 0 && double.IsFinite(PMean), "loss.p_std", PStd, "a positive spread of ln σ");
        ExperimentConfig.Check(TweedieWeighting is "lambda" or "lambda_ratio", "loss.tweedie_weighting", TweedieWeighting, "lambda or lambda_ratio");
        ExperimentConfig.Check(ConsistencyWeight >= 0, "loss.consistency_weight", ConsistencyWeight, "a weight >= 0");
        ExperimentConfig.Check(ConsistencySteps is >= 1 and <= 100, "loss.consistency_steps", ConsistencySteps, "1 to 100 steps");
        ExperimentConfig.Check(ConsistencyWeight == 0 || Kind == "tweedie", "loss.consistency_weight", ConsistencyWeight, "0 unless loss.kind is tweedie");
    }
}
