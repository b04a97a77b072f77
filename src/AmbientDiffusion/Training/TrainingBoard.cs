using AmbientDiffusion.TensorBoard;

namespace AmbientDiffusion.Training;

/// <summary>
/// The TensorBoard side of the metrics log: every tick's statistics as scalars, under the tag names EDM's training
/// loop uses where one exists (Loss/loss, Progress/kimg, Timing/sec_per_tick), so runs of both tools read alike.
/// The x axis (the event step) is the count of training images seen, which does not depend on the batch size.
/// </summary>
public sealed class TrainingBoard(string logDirectory) : IDisposable
{
    private readonly SummaryWriter _writer = new(logDirectory);

    /// <summary>The scalars of a tick, tag by tag.</summary>
    public static IReadOnlyList<(string Tag, double Value)> Scalars(TrainingTick tick) =>
    [
        ("Loss/loss", tick.Loss),
        ("Progress/kimg", tick.Kimg),
        ("Progress/step", tick.Step),
        ("Train/lr", tick.LearningRate),
        ("Train/grad_norm", tick.GradNorm),
        ("Train/skipped_steps", tick.SkippedSteps),
        ("Timing/images_per_second", tick.ImagesPerSecond),
        ("Timing/sec_per_tick", tick.SecondsPerTick),
    ];

    /// <summary>The event step of a tick: training images seen.</summary>
    public static long StepOf(TrainingTick tick) => (long)Math.Round(tick.Kimg * 1000);

    /// <summary>Appends a tick.</summary>
    public void Append(TrainingTick tick) => _writer.AddScalars(Scalars(tick), StepOf(tick));

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
