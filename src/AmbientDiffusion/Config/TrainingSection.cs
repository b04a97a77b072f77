namespace AmbientDiffusion.Config;

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
    }
}
