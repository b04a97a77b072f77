using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AmbientDiffusion.Config;

/// <summary>Reads and writes <see cref="ExperimentConfig"/> YAML: snake_case keys; unknown or duplicate keys and
/// wrong types are errors naming the file, line and column.</summary>
public static class ConfigLoader
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Parses and validates a config file.</summary>
    public static ExperimentConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such config file", path);
        var config = Parse(File.ReadAllText(path), path);
        // Data paths are relative to the config file, so a config and its data can move together.
        if (!string.IsNullOrEmpty(config.Data.Corrupted) && !Path.IsPathRooted(config.Data.Corrupted))
            config.Data.Corrupted = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, config.Data.Corrupted));
        return config;
    }

    /// <summary>Parses and validates YAML text; <paramref name="source"/> names it in errors.</summary>
    public static ExperimentConfig Parse(string yaml, string source)
    {
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
        try
        {
            config.Validate();
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{source}: {e.Message}");
        }
        return config;
    }

    // YamlDotNet says "Property 'lrr' not found on type 'AmbientDiffusion.Config.TrainingSection'."; users need the key.
    private static string Simplify(string message)
    {
        const string marker = "Property '";
        var at = message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0 || !message.Contains("not found on type", StringComparison.Ordinal)) return message;
        var end = message.IndexOf('\'', at + marker.Length);
        return $"unknown key '{message[(at + marker.Length)..end]}'";
    }

    /// <summary>The config as YAML (the resolved config written into every run directory).</summary>
    public static string ToYaml(ExperimentConfig config) => Serializer.Serialize(config);
}
