using System.Text.Json;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Rounds;

/// <summary>
/// The marker of a finished round (a loop's generation, an EM round): a JSON file written last, holding the texts that
/// identify what the round computed (its resolved config, the settings that composed its data). A rerun skips a round
/// whose marker matches, and redoes one whose marker is missing or differs.
/// </summary>
public static class RoundMarker
{
    /// <summary>Whether <paramref name="file"/> exists and holds every one of <paramref name="identity"/>'s strings.</summary>
    public static bool Matches(string file, IReadOnlyDictionary<string, string> identity)
    {
        if (!File.Exists(file)) return false;
        using var json = JsonDocument.Parse(File.ReadAllBytes(file));
        return identity.All(p => json.RootElement.TryGetProperty(p.Key, out var stored) && stored.ValueKind == JsonValueKind.String && stored.GetString() == p.Value);
    }

    /// <summary>Writes <paramref name="contents"/> (an object whose string properties include the identity) atomically.</summary>
    public static void Write(string file, object contents) =>
        AtomicFile.WriteAllBytes(file, JsonSerializer.SerializeToUtf8Bytes(contents, Indented));

    private static readonly JsonSerializerOptions Indented = Common.FiniteJson.Indented();
}
