using System.Collections;
using System.Reflection;
using AmbientDiffusion.Common;
using YamlDotNet.Core;

namespace AmbientDiffusion.Config;

/// <summary>
/// <c>--set key.path=value</c> overrides (and sweep grid points): the value is parsed as YAML into the type of the
/// property the snake_case key path names, so <c>training.lr=1e-4</c>, <c>model.channel_mult=[1,2,2]</c> and
/// <c>dataset=null</c> all work, and a mistyped key or value is an error naming it.
/// </summary>
public static class ConfigOverrides
{
    /// <summary>Splits <c>key.path=value</c>.</summary>
    public static (string Key, string Value) Parse(string assignment)
    {
        var equals = assignment.IndexOf('=');
        if (equals <= 0) throw new ConfigException($"--set {assignment}: expected key.path=value, e.g. training.lr=1e-4");
        return (assignment[..equals].Trim(), assignment[(equals + 1)..].Trim());
    }

    /// <summary>Sets the property at <paramref name="keyPath"/> of <paramref name="config"/> to <paramref name="value"/> (YAML).</summary>
    public static void Apply(ExperimentConfig config, string keyPath, string value)
    {
        object target = config;
        var segments = keyPath.Split('.');
        for (var i = 0; i < segments.Length; i++)
        {
            var property = Find(target.GetType(), segments[i])
                ?? throw new ConfigException($"--set {keyPath}={value}: unknown key '{segments[i]}'{Known(target.GetType(), segments[..i])}", keyPath);
            if (i == segments.Length - 1)
            {
                property.SetValue(target, Convert(keyPath, value, property.PropertyType));
                return;
            }
            if (!IsSection(property.PropertyType))
                throw new ConfigException($"--set {keyPath}={value}: '{string.Join('.', segments[..(i + 1)])}' is a value, not a section", keyPath);
            var next = property.GetValue(target);
            if (next is null)
            {
                // Setting a key of an absent optional section creates the section with its defaults.
                next = Activator.CreateInstance(property.PropertyType)!;
                property.SetValue(target, next);
            }
            target = next;
        }
    }

    /// <summary>Applies every <c>key=value</c> of <paramref name="assignments"/>.</summary>
    public static void ApplyAll(ExperimentConfig config, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments)
        {
            var (key, value) = Parse(assignment);
            Apply(config, key, value);
        }
    }

    private static PropertyInfo? Find(Type type, string snakeName) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.CanWrite && Yaml.Name(p.Name) == snakeName);

    private static string Known(Type type, string[] parent) =>
        $" in {(parent.Length == 0 ? "the config" : string.Join('.', parent))} (known: " +
        string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => Yaml.Name(p.Name))) + ")";

    private static bool IsSection(Type type) => type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);

    private static object? Convert(string keyPath, string value, Type type)
    {
        try
        {
            return Yaml.Deserializer.Deserialize(value.Length == 0 ? "''" : value, type);
        }
        catch (YamlException e)
        {
            var reason = ConfigLoader.Simplify((e.InnerException ?? e).Message);
            throw new ConfigException($"--set {keyPath}={value}: expected {Describe(type)} ({reason})", keyPath);
        }
    }

    internal static string Describe(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(int) || underlying == typeof(long) || underlying == typeof(ulong)) return "an integer";
        if (underlying == typeof(double)) return "a number";
        if (underlying == typeof(bool)) return "true or false";
        if (underlying.IsEnum) return string.Join(", ", Enum.GetNames(underlying).Select(Yaml.Name));
        if (underlying == typeof(string)) return "a string";
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>)) return "a list such as [1, 2]";
        return "a section (a mapping of keys)";
    }
}
