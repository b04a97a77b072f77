using AmbientDiffusion.TensorBoard;

namespace AmbientDiffusion.Loops;

/// <summary>
/// A loop's summary in TensorBoard: for each loop (arm and seed) under a runs folder, every metric of
/// <see cref="LoopSummary"/> against the generation (the event step), in <c>&lt;arm&gt;/seed-&lt;seed&gt;/tensorboard</c>
/// beside the generations' own training logs, so that <c>tensorboard --logdir</c> on the runs folder shows the arms'
/// drift side by side. The file is replaced whole after each generation, so no point appears twice.
/// </summary>
public static class LoopBoard
{
    /// <summary>Name of the summary's event file (after TensorBoard's prefix).</summary>
    public const string FileName = "loop-summary";

    /// <summary>Folder of a loop's summary events.</summary>
    public static string Folder(string runsFolder, string arm, ulong seed) => Path.Combine(runsFolder, arm, LoopLayout.SeedFolder(seed), "tensorboard");

    /// <summary>Writes every loop's summary events under <paramref name="runsFolder"/>.</summary>
    public static void Write(string runsFolder)
    {
        foreach (var loop in LoopSummary.Read(runsFolder).GroupBy(r => (r.Arm, r.Seed)))
        {
            using var writer = SummaryWriter.Replacing(Folder(runsFolder, loop.Key.Arm, loop.Key.Seed), FileName);
            foreach (var row in loop.OrderBy(r => r.Generation))
                writer.AddScalars(LoopSummary.Metrics.Where(m => row.Values.ContainsKey(m.Column)).Select(m => ($"Loop/{m.Column}", row.Values[m.Column]))
                    .Append(("Loop/training_images", row.TrainingImages)), row.Generation);
        }
    }
}
