using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.TensorBoard;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// What the pipeline adds to a run's TensorBoard folder besides the trainer's per-tick scalars: the resolved config as
/// text when training starts, and after the evaluation each feature space's metrics beside their floors, the sample
/// grid and the story picture, at the step (training images seen) of the checkpoint they describe (one file per step,
/// replaced when a rerun re-evaluates). Everything is read
/// from the files the stages wrote, so TensorBoard shows exactly what the reports show.
/// </summary>
public static class RunBoard
{
    /// <summary>Tag of the resolved config.</summary>
    public const string ConfigTag = "config";

    /// <summary>Records the resolved config (YAML, shown as a code block in TensorBoard's Text tab).</summary>
    public static void WriteConfig(RunDirectory run, string resolvedYaml, long step)
    {
        using var writer = new SummaryWriter(run.TensorBoard);
        writer.AddText(ConfigTag, "```yaml\n" + resolvedYaml + "\n```", step);
    }

    /// <summary>Records the evaluation metrics of <paramref name="spaces"/>, the sample grid and the story picture,
    /// where the run has them.</summary>
    public static void WriteResults(RunDirectory run, IReadOnlyList<FeatureSpec> spaces, long step)
    {
        var scalars = new List<(string Tag, double Value)>();
        foreach (var space in spaces)
            if (MetricsReportWriter.Read(run.Evaluation(space.Name)) is { } result)
                scalars.AddRange(Scalars(space.Name, result));
        var grid = Path.Combine(run.Samples, SampleSet.GridFile);
        var pictures = new[] { ("Samples/grid", grid), ("Samples/story", run.Story) }.Where(p => File.Exists(p.Item2)).ToList();
        if (scalars.Count == 0 && pictures.Count == 0) return;
        // One file per evaluated step, replaced whole when a rerun re-evaluates, so no point appears twice.
        using var writer = SummaryWriter.Replacing(run.TensorBoard, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"results.{step}"));
        writer.AddScalars(scalars, step);
        foreach (var (tag, file) in pictures) writer.AddPng(tag, File.ReadAllBytes(file), step);
    }

    /// <summary>The scalars of one space's evaluation: each metric and its floor.</summary>
    public static IEnumerable<(string Tag, double Value)> Scalars(string space, EvaluationResult result)
    {
        foreach (var (key, _, summary) in result.Metrics)
        {
            yield return ($"Evaluation/{space}/{key}", summary.Value);
            yield return ($"Evaluation/{space}/{key}_floor", summary.Floor);
        }
    }
}
