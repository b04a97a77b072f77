using System.Text.Json;
using System.Text.Json.Serialization;

namespace AmbientDiffusion.Common;

/// <summary>
/// The one number policy of every JSON file the product writes (metrics.jsonl, report.json, metrics.json, manifest.json,
/// inputs.json, summaries, checkpoint metadata): a double or float that is not finite is written as the JSON string
/// <c>"NaN"</c>, <c>"Infinity"</c> or <c>"-Infinity"</c> (System.Text.Json's named literals, which Python's
/// <c>float()</c> also reads) and read back as that value. Without it the serializer throws on the first NaN, so a NaN
/// loss or an infinite gradient norm would stop a run with a JSON error instead of its own. Every
/// <see cref="JsonSerializerOptions"/> in the product is <see cref="Options"/> or built from it
/// (<c>new(FiniteJson.Options) { ... }</c>); finite numbers are written exactly as before.
/// </summary>
public static class FiniteJson
{
    /// <summary>The base options: default naming, compact, named floating-point literals allowed.</summary>
    public static readonly JsonSerializerOptions Options = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary><see cref="Options"/> with snake_case property names, optionally indented (with "\n" line ends) and leaving out nulls.</summary>
    public static JsonSerializerOptions SnakeCase(bool indented = false, bool omitNulls = false) => new(Options)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = indented,
        NewLine = "\n",
        DefaultIgnoreCondition = omitNulls ? JsonIgnoreCondition.WhenWritingNull : JsonIgnoreCondition.Never,
    };

    /// <summary><see cref="Options"/>, indented.</summary>
    public static JsonSerializerOptions Indented() => new(Options) { WriteIndented = true };

    /// <summary>Whether <paramref name="options"/> follows the policy (what every writer's options must).</summary>
    public static bool Follows(JsonSerializerOptions options) => options.NumberHandling.HasFlag(JsonNumberHandling.AllowNamedFloatingPointLiterals);
}
