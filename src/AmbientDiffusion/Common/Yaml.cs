using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AmbientDiffusion.Common;

/// <summary>
/// The one YAML dialect of the product: snake_case keys and enum values (<c>mean_observed</c>, <c>per_pixel</c>),
/// duplicate keys rejected. Configs are written and read with it, and checkpoints carry their resolved config in it, so
/// both the config layer and the checkpoint reader use these instances.
/// </summary>
public static class Yaml
{
    /// <summary>Reads YAML into typed records; unknown keys are errors.</summary>
    public static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithEnumNamingConvention(UnderscoredNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    /// <summary>Reads YAML into typed records, ignoring keys the target type does not have (for reading parts of a document).</summary>
    public static readonly IDeserializer LenientDeserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithEnumNamingConvention(UnderscoredNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    /// <summary>Writes records as YAML (nulls omitted).</summary>
    public static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithEnumNamingConvention(UnderscoredNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .Build();

    /// <summary>A key or enum value's snake_case name (<c>MeanObserved</c> → <c>mean_observed</c>).</summary>
    public static string Name(string pascal) => UnderscoredNamingConvention.Instance.Apply(pascal);

    /// <summary>An enum value as written in YAML.</summary>
    public static string EnumName(Enum value) => Name(value.ToString());

    /// <summary>Every value of an enum as written in YAML, for "expected a, b or c" messages.</summary>
    public static string Choices<TEnum>() where TEnum : struct, Enum
    {
        var names = Enum.GetValues<TEnum>().Select(v => Name(v.ToString())).ToList();
        return names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];
    }
}
