using System.Text.Json;
using AmbientDiffusion.Data;

namespace AmbientDiffusion.Sampling;

/// <summary>One class of a synthetic dataset: its id, name, folder (under the export root) and image count.</summary>
public sealed record SyntheticClass(int Id, string Name, string Folder, int Count);

/// <summary>
/// <c>manifest.json</c> of a synthetic dataset (<see cref="SyntheticExport"/>): where the images came from (checkpoint
/// and its SHA-256, weights, sampler, guidance, steps, seeds, views) and what was written (classes, counts, files).
/// </summary>
public sealed record SyntheticManifest
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "ambient/synthetic/1";

    /// <summary>File names at the export root.</summary>
    public const string FileName = "manifest.json", NumpyFile = "synthetic.npz";

#pragma warning disable CS1591
    public string Format { get; init; } = FormatName;
    public required string Checkpoint { get; init; }
    public required string CheckpointSha256 { get; init; }
    public required string RunName { get; init; }
    public required string Weights { get; init; }
    public required string Sampler { get; init; }
    public required JsonElement SamplerOptions { get; init; }
    public required double Guidance { get; init; }
    public required int Steps { get; init; }
    /// <summary>Base seeds, one per starting noise: <c>FirstSeed</c> … <c>FirstSeed + BaseSamples − 1</c>; base seed s is drawn for class s mod label_dim.</summary>
    public required ulong FirstSeed { get; init; }
    /// <summary>The base seeds as a range, e.g. <c>0-999</c> (the form <c>ambient sample --seeds</c> takes).</summary>
    public required string Seeds { get; init; }
    public required int BaseSamples { get; init; }
    public required int PerClass { get; init; }
    public required int Views { get; init; }
    public required double ViewScale { get; init; }
    public required int Count { get; init; }
    /// <summary>Image shape [H, W, C] as stored in the npz.</summary>
    public required int[] ImageShape { get; init; }
    public required IReadOnlyList<SyntheticClass> Classes { get; init; }
    /// <summary>Arrays in <see cref="NumpyFile"/>.</summary>
    public required IReadOnlyList<string> NpzArrays { get; init; }
    public required string Tool { get; init; }
#pragma warning restore CS1591

    /// <summary>The manifest as indented JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options) + "\n";

    /// <summary>Reads a manifest; a malformed file is an error naming it.</summary>
    public static SyntheticManifest Read(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<SyntheticManifest>(File.ReadAllText(path), Options) ?? throw new InvalidDataException($"{path}: empty manifest");
            return manifest.Format == FormatName ? manifest : throw new InvalidDataException($"{path}: format '{manifest.Format}', expected '{FormatName}'");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a synthetic-dataset manifest ({e.Message})", e);
        }
    }

    private static readonly JsonSerializerOptions Options = new(ProvenanceJson.Options) { WriteIndented = true };
}
