using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// Prepared and corrupted datasets made from a config's <c>dataset</c> and <c>corruption</c> sections, cached in one
/// folder (runs/data) under names keyed by a hash of the settings that made them, so the runs of a sweep share them and
/// a rerun finds them. Each file is written atomically, so an interrupted preparation leaves nothing half-written.
/// </summary>
public sealed class DataCache(string folder)
{
    /// <summary>The cache folder.</summary>
    public string Folder { get; } = folder;

    /// <summary>The prepared (clean) dataset of <paramref name="config"/>: <c>data.prepared</c>, or the cached preparation
    /// of its <c>dataset</c> section (made now when missing). Null when the config names only a corrupted file.</summary>
    public string? Prepared(ExperimentConfig config, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        if (!string.IsNullOrWhiteSpace(config.Data.Prepared)) return RequireFile(config.Data.Prepared, "data.prepared");
        if (config.Dataset is not { } dataset) return null;
        // Keyed by the section's settings alone, so a cache hit never opens (or lists) the source.
        var stem = Slug(Path.GetFileNameWithoutExtension(dataset.Source.TrimEnd('/', '\\'))) + "-" + dataset.Resolution.ToString(CultureInfo.InvariantCulture);
        var path = Path.Combine(Folder, $"{stem}-{Hash(dataset)}.safetensors");
        if (File.Exists(path)) return path;
        var source = ImageSources.Open(dataset.Source, dataset.Format, string.IsNullOrEmpty(dataset.Partition) ? null : dataset.Partition);
        Directory.CreateDirectory(Folder);
        DatasetPreparer.Run(source, path, dataset.ToOptions(source), progress is null ? null : new ProgressRelay<PrepareProgress>(p => progress.Report((p.Done, p.Total))), cancel);
        return path;
    }

    /// <summary>The corrupted dataset training reads: <c>data.corrupted</c>, or the cached corruption of
    /// <paramref name="preparedPath"/> by the <c>corruption</c> section (made now, with a preview PNG, when missing).</summary>
    public string Corrupted(ExperimentConfig config, string? preparedPath, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancel = default)
    {
        if (!string.IsNullOrWhiteSpace(config.Data.Corrupted)) return RequireFile(config.Data.Corrupted, "data.corrupted");
        var corruption = config.Corruption ?? throw new ConfigException("corruption: missing (or set data.corrupted)", "corruption");
        if (preparedPath is null) throw new ConfigException("dataset: missing (or set data.prepared): the corruption needs clean images to corrupt", "dataset");
        var spec = corruption.ToSpec();
        var op = spec.ToOperator();
        var prepared = new FileInfo(preparedPath);
        // Keyed by the prepared file's identity (path, size, time) and the corruption settings.
        var key = Hash(prepared.FullName, prepared.Length, prepared.LastWriteTimeUtc.Ticks, spec, corruption.Seed);
        var path = Path.Combine(Folder, $"{Path.GetFileNameWithoutExtension(preparedPath)}-{Slug(op.Describe())}-{key}.safetensors");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(Folder);
        using var source = PreparedDataset.Open(preparedPath);
        DatasetCorruptor.Run(source, op, corruption.Seed, path, progress is null ? null : new ProgressRelay<CorruptProgress>(p => progress.Report((p.Done, p.Total))), cancel);
        using var corrupted = CorruptedDataset.Open(path);
        DatasetCorruptor.WritePreview(source, corrupted, Math.Min(16, source.Count), Path.ChangeExtension(path, ".preview.png"));
        return path;
    }

    /// <summary>The in-product classifier of a labelled prepared dataset, trained once and cached beside it.</summary>
    public string Classifier(string preparedPath, ClassifierTrainingOptions options, Torch.Device device, IProgress<(int Done, int Total)>? progress = null)
    {
        var prepared = new FileInfo(preparedPath);
        var path = Path.Combine(Folder, $"{Path.GetFileNameWithoutExtension(preparedPath)}-classifier-{Hash(prepared.FullName, prepared.Length, prepared.LastWriteTimeUtc.Ticks, options)}.safetensors");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(Folder);
        PreparedClassifier.TrainAndSave(preparedPath, path, options, device,
            progress is null ? null : new ProgressRelay<ClassifierTrainingProgress>(p => progress.Report(((int)p.ImagesDone, (int)p.ImagesTotal))));
        return path;
    }

    private static string RequireFile(string path, string key) =>
        File.Exists(path) ? path : throw new ConfigException($"{key} = {path}: no such file", key);

    private static string Hash(params object[] parts)
    {
        var json = JsonSerializer.Serialize(parts, ProvenanceJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..10];
    }

    private static string Slug(string text)
    {
        var builder = new StringBuilder();
        foreach (var ch in text.ToLowerInvariant())
            builder.Append(char.IsAsciiLetterOrDigit(ch) || ch is '.' ? ch : '-');
        var slug = builder.ToString().Trim('-');
        while (slug.Contains("--", StringComparison.Ordinal)) slug = slug.Replace("--", "-", StringComparison.Ordinal);
        return slug.Length == 0 ? "data" : slug;
    }
}
