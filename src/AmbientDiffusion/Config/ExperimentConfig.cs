using System.Globalization;

namespace AmbientDiffusion.Config;

/// <summary>
/// One experiment, as written in YAML (snake_case keys). Defaults are the paper's where it has one and a small
/// CPU-friendly choice otherwise. <see cref="Validate"/> checks every range and names the key path.
/// </summary>
public sealed class ExperimentConfig
{
    /// <summary>Run name: the run directory is runs/&lt;name&gt;.</summary>
    public string Name { get; set; } = "run";

    /// <summary>Seed of everything random in training (σ, noise, further corruption, shuffling, dropout, init).</summary>
    public ulong Seed { get; set; }

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Where the data comes from.</summary>
    public DataSection Data { get; set; } = new();

    /// <summary>The U-Net.</summary>
    public ModelSection Model { get; set; } = new();

    /// <summary>The objective.</summary>
    public LossSection Loss { get; set; } = new();

    /// <summary>Optimisation and bookkeeping.</summary>
    public TrainingSection Training { get; set; } = new();

    /// <summary>Checks every value; the message names the key path and what was expected.</summary>
    public void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(Name) && Name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && Name is not ("." or ".."), "name", Name, "a non-empty run name usable as a folder name");
        try
        {
            Torch.Device.Parse(Device);
        }
        catch (ArgumentException)
        {
            Fail("device", Device, "cpu, cuda, cuda:N or auto");
        }
        Check(!string.IsNullOrWhiteSpace(Data.Corrupted), "data.corrupted", Data.Corrupted, "the path of a corrupted dataset (from `ambient corrupt`)");
        Model.Validate();
        Loss.Validate();
        Training.Validate();
    }

    internal static void Check(bool ok, string key, object? value, string expected)
    {
        if (!ok) Fail(key, value, expected);
    }

    internal static void Fail(string key, object? value, string expected) =>
        throw new ConfigException($"{key} = {Format(value)}: expected {expected}");

    private static string Format(object? value) => value switch
    {
        null => "(missing)",
        double d => d.ToString(CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object>().Select(Format)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>A configuration error: the message names the key (and the file position when known).</summary>
public sealed class ConfigException(string message) : ArgumentException(message);

/// <summary>The training data: only a corrupted dataset (the clean-data firewall).</summary>
public sealed class DataSection
{
    /// <summary>The corrupted dataset file, relative to the config file's folder.</summary>
    public string Corrupted { get; set; } = "";

    /// <summary>Mirror images and masks together at random.</summary>
    public bool Flip { get; set; } = true;
}

/// <summary>EDM's DDPM++ U-Net (ambient-spec §4).</summary>
public sealed class ModelSection
{
#pragma warning disable CS1591
    public int ModelChannels { get; set; } = 64;
    public List<int> ChannelMult { get; set; } = [1, 2, 2];
    public int NumBlocks { get; set; } = 2;
    public List<int> AttnResolutions { get; set; } = [16];
    public double Dropout { get; set; } = 0.1;
    public bool Gated { get; set; }
#pragma warning restore CS1591

    internal void Validate()
    {
        ExperimentConfig.Check(ModelChannels is >= 8 and <= 1024 && ModelChannels % 4 == 0, "model.model_channels", ModelChannels, "a multiple of 4 in [8, 1024]");
        ExperimentConfig.Check(ChannelMult.Count is >= 1 and <= 6 && ChannelMult.All(m => m is >= 1 and <= 16), "model.channel_mult", ChannelMult, "1 to 6 multipliers in [1, 16]");
        ExperimentConfig.Check(NumBlocks is >= 1 and <= 8, "model.num_blocks", NumBlocks, "1 to 8 blocks per level");
        ExperimentConfig.Check(AttnResolutions.All(r => r >= 1), "model.attn_resolutions", AttnResolutions, "positive resolutions");
        ExperimentConfig.Check(Dropout is >= 0 and < 1, "model.dropout", Dropout, "a probability in [0, 1)");
    }
}

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

/// <summary>Optimisation, in EDM's units (thousands of images).</summary>
public sealed class TrainingSection
{
#pragma warning disable CS1591
    public double DurationKimg { get; set; } = 100;
    public int BatchSize { get; set; } = 64;
    public int Accumulation { get; set; } = 1;
    public double Lr { get; set; } = 2e-4;
    public double LrWarmupKimg { get; set; } = 10;
    public double EmaHalflifeKimg { get; set; } = 0.5;
    public double GradClip { get; set; } = 1.0;
    public int MaxNonfiniteInARow { get; set; } = 10;
    public double TickKimg { get; set; } = 1;
    public double CheckpointKimg { get; set; } = 25;
    public int Threads { get; set; }
    public bool Bf16 { get; set; }
    public bool Tf32 { get; set; } = true;
#pragma warning restore CS1591

    internal void Validate()
    {
        ExperimentConfig.Check(DurationKimg > 0, "training.duration_kimg", DurationKimg, "a positive number of thousands of images");
        ExperimentConfig.Check(BatchSize is >= 1 and <= 65536, "training.batch_size", BatchSize, "1 to 65536 images");
        ExperimentConfig.Check(Accumulation is >= 1 and <= 1024, "training.accumulation", Accumulation, "1 to 1024 rounds");
        ExperimentConfig.Check(Lr is > 0 and < 1, "training.lr", Lr, "a learning rate in (0, 1)");
        ExperimentConfig.Check(LrWarmupKimg >= 0, "training.lr_warmup_kimg", LrWarmupKimg, ">= 0");
        ExperimentConfig.Check(EmaHalflifeKimg >= 0, "training.ema_halflife_kimg", EmaHalflifeKimg, ">= 0 (0 disables the EMA)");
        ExperimentConfig.Check(GradClip >= 0, "training.grad_clip", GradClip, ">= 0 (0 disables clipping)");
        ExperimentConfig.Check(MaxNonfiniteInARow >= 1, "training.max_nonfinite_in_a_row", MaxNonfiniteInARow, "at least 1");
        ExperimentConfig.Check(TickKimg > 0, "training.tick_kimg", TickKimg, "> 0");
        ExperimentConfig.Check(CheckpointKimg > 0, "training.checkpoint_kimg", CheckpointKimg, "> 0");
        ExperimentConfig.Check(Threads >= 0, "training.threads", Threads, "0 (all cores) or a positive count");
    }
}
