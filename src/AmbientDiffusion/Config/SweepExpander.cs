namespace AmbientDiffusion.Config;

/// <summary>One run of a sweep: its label (the folder name under the sweep's folder), its grid values and its config.</summary>
public sealed record SweepPoint(string Label, IReadOnlyList<(string Key, string Value)> Values, ExperimentConfig Config);

/// <summary>
/// Expands a config's <c>sweep.grid</c> into one config per combination (the last key varying fastest), each value
/// applied like <c>--set key=value</c> and validated, so a bad grid value is reported with its key and value.
/// </summary>
public static class SweepExpander
{
    /// <summary>The runs of <paramref name="config"/>'s sweep, in order.</summary>
    public static IReadOnlyList<SweepPoint> Expand(ExperimentConfig config)
    {
        var sweep = config.Sweep ?? throw new ConfigException("sweep: missing; a sweep config needs a sweep.grid section", "sweep");
        var keys = sweep.Keys();
        var labels = keys.ToDictionary(k => k, k => ShortName(k, keys));
        var baseYaml = ConfigLoader.ToYaml(WithoutSweep(config));
        var runs = sweep.Runs.Count > 0 ? sweep.Runs : [[]];
        var points = new List<SweepPoint>();
        foreach (var combination in Combinations(sweep.Grid.Values.ToList()))
            foreach (var run in runs)
            {
                var values = sweep.Grid.Keys.Select((k, i) => (Key: k, Value: combination[i])).Concat(run.Select(r => (r.Key, r.Value))).ToList();
                var label = string.Join("_", values.Select(v => $"{labels[v.Key]}={Sanitize(v.Value)}"));
                var point = ConfigLoader.Parse(baseYaml, $"sweep point {label}", values.Select(v => $"{v.Key}={v.Value}"));
                point.Name = label;
                points.Add(new SweepPoint(label, values, point));
            }
        if (points.Select(p => p.Label).Distinct(StringComparer.Ordinal).Count() != points.Count)
            throw new ConfigException("sweep: two runs get the same label (a value repeated in sweep.runs?)", "sweep");
        return points;
    }

    private static ExperimentConfig WithoutSweep(ExperimentConfig config)
    {
        var copy = ConfigLoader.Parse(ConfigLoader.ToYaml(config), "sweep");
        copy.Sweep = null;
        return copy;
    }

    private static IEnumerable<string[]> Combinations(IReadOnlyList<List<string>> lists)
    {
        if (lists.Count == 0)
        {
            yield return [];
            yield break;
        }
        var index = new int[lists.Count];
        while (true)
        {
            yield return lists.Select((l, i) => l[index[i]]).ToArray();
            var k = lists.Count - 1;
            while (k >= 0 && ++index[k] == lists[k].Count) index[k--] = 0;
            if (k < 0) yield break;
        }
    }

    // "corruption.p" → "p" unless another grid key ends the same way.
    private static string ShortName(string key, IReadOnlyList<string> keys)
    {
        var last = key[(key.LastIndexOf('.') + 1)..];
        return keys.Count(k => k[(k.LastIndexOf('.') + 1)..] == last) > 1 ? key : last;
    }

    private static string Sanitize(string value) =>
        new(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-').ToArray());
}
