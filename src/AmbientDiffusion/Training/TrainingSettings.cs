using AmbientDiffusion.Common;

namespace AmbientDiffusion.Training;

/// <summary>Optimisation and bookkeeping in EDM's units, thousands of images (the <c>training:</c> section). Its defaults
/// and bounds live here only.</summary>
public sealed record TrainingSettings
{
    /// <summary>Images to train on, in thousands.</summary>
    public double DurationKimg { get; init; } = 100;

    /// <summary>Images per accumulation round.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Accumulation rounds per optimizer step.</summary>
    public int Accumulation { get; init; } = 1;

    /// <summary>Adam's learning rate after warm-up.</summary>
    public double Lr { get; init; } = 2e-4;

    /// <summary>Linear learning-rate warm-up, in thousands of images.</summary>
    public double LrWarmupKimg { get; init; } = 10;

    /// <summary>EMA half-life in thousands of images (0 disables the EMA).</summary>
    public double EmaHalflifeKimg { get; init; } = 0.5;

    /// <summary>Gradient-norm clipping threshold (0 disables clipping).</summary>
    public double GradClip { get; init; } = 1.0;

    /// <summary>Non-finite steps in a row after which training stops.</summary>
    public int MaxNonfiniteInARow { get; init; } = 10;

    /// <summary>Metrics interval, in thousands of images.</summary>
    public double TickKimg { get; init; } = 1;

    /// <summary>Checkpoint interval, in thousands of images.</summary>
    public double CheckpointKimg { get; init; } = 25;

    /// <summary>Probability that an image's class label is replaced by the null label (classifier-free guidance);
    /// class-conditional models only.</summary>
    public double LabelDropout { get; init; } = 0.1;

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(DurationKimg > 0, "duration_kimg", DurationKimg, "a positive number of thousands of images");
        SettingException.Check(BatchSize is >= 1 and <= 65536, "batch_size", BatchSize, "1 to 65536 images");
        SettingException.Check(Accumulation is >= 1 and <= 1024, "accumulation", Accumulation, "1 to 1024 rounds");
        SettingException.Check(Lr is > 0 and < 1, "lr", Lr, "a learning rate in (0, 1)");
        SettingException.Check(LrWarmupKimg >= 0, "lr_warmup_kimg", LrWarmupKimg, ">= 0");
        SettingException.Check(EmaHalflifeKimg >= 0, "ema_halflife_kimg", EmaHalflifeKimg, ">= 0 (0 disables the EMA)");
        SettingException.Check(GradClip >= 0, "grad_clip", GradClip, ">= 0 (0 disables clipping)");
        SettingException.Check(MaxNonfiniteInARow >= 1, "max_nonfinite_in_a_row", MaxNonfiniteInARow, "at least 1");
        SettingException.Check(TickKimg > 0, "tick_kimg", TickKimg, "> 0");
        SettingException.Check(LabelDropout is >= 0 and <= 1, "label_dropout", LabelDropout, "a probability in [0, 1]");
        SettingException.Check(CheckpointKimg > 0, "checkpoint_kimg", CheckpointKimg, "> 0");
    }
}
