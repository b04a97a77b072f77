using System.Globalization;

namespace AmbientDiffusion.Common;

/// <summary>
/// A setting of a domain record out of its bounds. <see cref="Setting"/> is the record's own snake_case name for it
/// (e.g. <c>delta</c>, <c>knn.query_chunk</c>); the config layer prefixes the YAML section and the key's position, the
/// CLI names its option, so the domain never needs to know where a value came from.
/// </summary>
public sealed class SettingException(string setting, object? value, string expected)
    : ArgumentException($"{setting} = {Format(value)}: expected {expected}")
{
    /// <summary>The setting's snake_case name within its record.</summary>
    public string Setting { get; } = setting;

    /// <summary>The offending value.</summary>
    public object? Value { get; } = value;

    /// <summary>What was expected, as a phrase.</summary>
    public string Expected { get; } = expected;

    /// <summary>Throws unless <paramref name="ok"/>.</summary>
    public static void Check(bool ok, string setting, object? value, string expected)
    {
        if (!ok) throw new SettingException(setting, value, expected);
    }

    /// <summary>Re-throws errors of a nested record with its name as prefix (e.g. <c>knn.</c>).</summary>
    public static void Nested(string prefix, Action validate)
    {
        try
        {
            validate();
        }
        catch (SettingException e)
        {
            throw new SettingException($"{prefix}.{e.Setting}", e.Value, e.Expected);
        }
    }

    /// <summary>A value as written in messages (invariant numbers, lists in brackets).</summary>
    public static string Format(object? value) => value switch
    {
        null => "(missing)",
        double d => d.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Enum e => Yaml.EnumName(e),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object>().Select(Format)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
