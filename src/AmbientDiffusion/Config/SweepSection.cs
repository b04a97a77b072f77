namespace AmbientDiffusion.Config;

/// <summary>
/// A grid of runs: every combination of the listed values, each applied like <c>--set key=value</c> to the rest of the
/// config. Runs are named <c>&lt;name&gt;/&lt;key&gt;=&lt;value&gt;,…</c> under the sweep's folder.
/// </summary>
public sealed class SweepSection
{
    /// <summary>Key path → values, e.g. <c>corruption.p: [0.0, 0.4, 0.8]</c>. Expanded in the order written, the last
    /// key varying fastest.</summary>
    public Dictionary<string, List<string>> Grid { get; set; } = [];

    /// <summary>The key plotted on the x axis of the summary chart (default: the first grid key).</summary>
    public string? X { get; set; }

    internal void Validate()
    {
        ExperimentConfig.Check(Grid.Count > 0, "sweep.grid", null, "at least one key with a list of values");
        foreach (var (key, values) in Grid)
        {
            ExperimentConfig.Check(values.Count > 0, $"sweep.grid.{key}", values, "a non-empty list of values");
            ExperimentConfig.Check(values.Distinct(StringComparer.Ordinal).Count() == values.Count, $"sweep.grid.{key}", values, "distinct values");
            ExperimentConfig.Check(key is not ("name" or "sweep") && !key.StartsWith("sweep.", StringComparison.Ordinal), $"sweep.grid.{key}", values, "a key other than name and sweep");
        }
        ExperimentConfig.Check(X is null || Grid.ContainsKey(X), "sweep.x", X, "one of the grid keys (" + string.Join(", ", Grid.Keys) + ")");
    }
}
