using AmbientDiffusion.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace AmbientDiffusion.Config;

/// <summary>
/// Reads and writes <see cref="ExperimentConfig"/> YAML: snake_case keys; unknown or duplicate keys, wrong types and
/// out-of-range values are errors naming the file, line and column of the key (or the <c>--set</c> that gave it).
/// </summary>
public static class ConfigLoader
{
    private static IDeserializer Deserializer => Yaml.Deserializer;

    private static ISerializer Serializer => Yaml.Serializer;

    /// <summary>Parses a config file, applies <paramref name="overrides"/> (<c>key.path=value</c>) and validates it.
    /// Paths in it are made absolute relative to the file's folder, so a config and its data can move together.</summary>
    public static ExperimentConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such config file", path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Parse(File.ReadAllText(path), path, overrides, folder);
    }

    /// <summary>Parses YAML text; <paramref name="source"/> names it in errors; relative paths resolve against
    /// <paramref name="baseFolder"/> when given.</summary>
    public static ExperimentConfig Parse(string yaml, string source, IEnumerable<string>? overrides = null, string? baseFolder = null)
    {
        var positions = KeyPositions(yaml, source);
        ExperimentConfig? config;
        try
        {
            config = Deserializer.Deserialize<ExperimentConfig>(yaml);
        }
        catch (YamlException e)
        {
            var message = (e.InnerException as YamlException)?.Message ?? e.InnerException?.Message ?? e.Message;
            throw new ConfigException($"{source}:{e.Start.Line}:{e.Start.Column}: {Simplify(message)}");
        }
        config ??= new ExperimentConfig();
        var overridden = new HashSet<string>(StringComparer.Ordinal);
        foreach (var assignment in overrides ?? [])
        {
            var (key, value) = ConfigOverrides.Parse(assignment);
            try
            {
                ConfigOverrides.Apply(config, key, value);
            }
            catch (ConfigException e)
            {
                throw new ConfigException($"{source}: {e.Message}", key);
            }
            overridden.Add(key);
        }
        if (baseFolder is not null) ResolvePaths(config, baseFolder);
        try
        {
            config.Validate();
        }
        catch (ConfigException e)
        {
            throw new ConfigException(Locate(e, source, positions, overridden), e.Key);
        }
        return config;
    }

    /// <summary>Prefixes a validation message with the position of its key, or the --set that gave the value.</summary>
    private static string Locate(ConfigException e, string source, IReadOnlyDictionary<string, Mark> positions, IReadOnlySet<string> overridden)
    {
        if (e.Key is null) return $"{source}: {e.Message}";
        if (overridden.Contains(e.Key)) return $"{source}: (from --set {e.Key}) {e.Message}";
        // A key left at its default has no position; point at its section instead, when that is written.
        for (var key = e.Key; key.Length > 0; key = key.Contains('.') ? key[..key.LastIndexOf('.')] : "")
            if (positions.TryGetValue(key, out var mark))
                return $"{source}:{mark.Line}:{mark.Column}: {e.Message}";
        return $"{source}: {e.Message}";
    }

    /// <summary>Line and column of every key path written in the YAML (e.g. "training.lr").</summary>
    private static Dictionary<string, Mark> KeyPositions(string yaml, string source)
    {
        var positions = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}");
        }
        void Walk(YamlNode node, string prefix)
        {
            if (node is not YamlMappingNode mapping) return;
            foreach (var (key, value) in mapping.Children)
            {
                if (key is not YamlScalarNode { Value: { } name }) continue;
                var path = prefix.Length == 0 ? name : prefix + "." + name;
                positions.TryAdd(path, key.Start);
                Walk(value, path);
            }
        }
        if (stream.Documents.Count > 0) Walk(stream.Documents[0].RootNode, "");
        return positions;
    }

    private static void ResolvePaths(ExperimentConfig config, string folder)
    {
        string Resolve(string path) => string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(folder, path));
        config.Data.Corrupted = Resolve(config.Data.Corrupted);
        config.Data.Prepared = Resolve(config.Data.Prepared);
        if (config.Dataset is { } dataset && !dataset.Source.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase))
            dataset.Source = Resolve(dataset.Source);
        if (config.Em is { } em) config.Em = em with { Checkpoint = Resolve(em.Checkpoint) };
        var memorization = config.Memorization;
        memorization.FeaturesSamples = Resolve(memorization.FeaturesSamples);
        memorization.FeaturesTrain = Resolve(memorization.FeaturesTrain);
        memorization.FeaturesHeldout = Resolve(memorization.FeaturesHeldout);
    }

    // YamlDotNet says "Property 'lrr' not found on type 'AmbientDiffusion.Config.TrainingSection'." and "Requested value
    // 'Bogus' was not found."; users need the key or the value.
    internal static string Simplify(string message)
    {
        const string value = "Requested value '";
        if (message.StartsWith(value, StringComparison.Ordinal))
            return $"unknown value '{Yaml.Name(message[value.Length..message.IndexOf('\'', value.Length)])}'";
        const string marker = "Property '";
        var at = message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || !message.Contains("not found on type", StringComparison.Ordinal)) return message;
        var end = message.IndexOf('\'', at + marker.Length);
        return $"unknown key '{message[(at + marker.Length)..end]}'";
    }

    /// <summary>The config as YAML (the resolved config written into every run directory).</summary>
    public static string ToYaml(ExperimentConfig config) => Serializer.Serialize(config);

    /// <summary>A config section (or any value) as YAML, with the config's key naming.</summary>
    internal static string ToYaml(object? value) => value is null ? "" : Serializer.Serialize(value);
}
