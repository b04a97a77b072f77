namespace AmbientDiffusion.Config;

/// <summary>
/// A grid of runs: every combination of the listed values, each applied like <c>--set key=value</c> to the rest of the
/// config, optionally crossed with an explicit list of runs (for settings that only make sense together, such as
/// clean data with the <c>edm</c> loss beside masked data with the <c>ambient</c> loss). Runs are named
/// <c>&lt;key&gt;=&lt;value&gt;_…</c> under the sweep's folder.
/// </summary>
public sealed class SweepSection
{
    /// <summary>Key path → values, e.g. <c>corruption.p: [0.0, 0.4, 0.8]</c>. Expanded in the order written, the last
    /// key varying fastest.</summary>
    public Dictionary<string, List<string>> Grid { get; set; } = [];

    /// <summary>Explicit runs, each a set of key → value; crossed with <see cref="Grid"/> (either may be empty, not both).</summary>
    public List<Dictionary<string, string>> Runs { get; set; } = [];

    /// <summary>The key plotted on the x axis of the summary chart (default: the first grid key).</summary>
    public string? X { get; set; }

    internal void Validate()
    {
        ExperimentConfig.Check(Grid.Count > 0 || Runs.Count > 0, "sweep.grid", null, "at least one key with a list of values (or a sweep.runs list)");
        ExperimentConfig.Check(Runs.All(r => r.Count > 0), "sweep.runs", Runs.Count, "runs with at least one key: value each");
        ExperimentConfig.Check(Runs.SelectMany(r => r.Keys).All(k => !Grid.ContainsKey(k)), "sweep.runs", string.Join(", ", Runs.SelectMany(r => r.Keys).Where(Grid.ContainsKey).Distinct()), "keys that are not also grid keys");
        foreach (var (key, values) in Grid)
        {
            ExperimentConfig.Check(values.Count > 0, $"sweep.grid.{key}", values, "a non-empty list of values");
            ExperimentConfig.Check(values.Distinct(StringComparer.Ordinal).Count() == values.Count, $"sweep.grid.{key}", values, "distinct values");
            ExperimentConfig.Check(key is not ("name" or "sweep") && !key.StartsWith("sweep.", StringComparison.Ordinal), $"sweep.grid.{key}", values, "a key other than name and sweep");
        }
        var keys = Keys();
        ExperimentConfig.Check(X is null || keys.Contains(X), "sweep.x", X, "one of the sweep keys (" + string.Join(", ", keys) + ")");
    }

    /// <summary>Every key the sweep sets: the grid's, then the runs' (in order of first appearance).</summary>
    public List<string> Keys() => Grid.Keys.Concat(Runs.SelectMany(r => r.Keys)).Distinct().ToList();
}
