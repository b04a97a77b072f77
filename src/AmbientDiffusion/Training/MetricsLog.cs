using System.Text.Json;
using AmbientDiffusion.Common;

namespace AmbientDiffusion.Training;

/// <summary>One tick of training statistics, as written to metrics.jsonl. A value that is not finite (the mean loss of a tick
/// whose steps were all skipped, a gradient norm that overflowed) is written as the string "NaN" or "Infinity" (<see cref="FiniteJson"/>).</summary>
public sealed record TrainingTick(long Step, double Kimg, double Loss, double LearningRate, double ImagesPerSecond, double SecondsPerTick, int SkippedSteps, double GradNorm);

/// <summary>Appends one JSON object per tick to runs/&lt;name&gt;/metrics.jsonl (flushed per line, so a crash keeps every tick).</summary>
public sealed class MetricsLog(string path)
{
    private static readonly JsonSerializerOptions Options = FiniteJson.SnakeCase();

    /// <summary>The file.</summary>
    public string Path => path;

    /// <summary>Appends a tick.</summary>
    public void Append(TrainingTick tick) => File.AppendAllText(path, JsonSerializer.Serialize(tick, Options) + "\n");
}
