using System.Security.Cryptography;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Data;

/// <summary>How to turn a source into a prepared dataset.</summary>
/// <param name="Resolution">Output side length.</param>
/// <param name="Channels">1 (grayscale) or 3 (RGB).</param>
/// <param name="Crop">Centred square cut before resizing; null for the largest.</param>
/// <param name="Count">Training images to keep; null keeps every image not held out.</param>
/// <param name="HeldOut">Images kept apart (disjoint from the training images) for memorization baselines.</param>
/// <param name="Seed">Seed of the subset selection.</param>
/// <param name="SkipBad">Skip undecodable or too-small images (reported) instead of failing.</param>
/// <param name="CelebAAttributes">CelebA attributes whose combination is each image's class (1 to 8 names from
/// <c>list_attr_celeba.txt</c>, e.g. Male, Smiling); null keeps the source's own labels, if any.</param>
public sealed record PrepareOptions(int Resolution, int Channels = 3, int? Crop = null, int? Count = null, int HeldOut = 0, ulong Seed = 0, bool SkipBad = false,
    IReadOnlyList<string>? CelebAAttributes = null)
{
    /// <summary>Checks every value, naming the option that is wrong.</summary>
    public void Validate()
    {
        SettingException.Check(Resolution is >= 4 and <= 4096, "resolution", Resolution, "4 to 4096 pixels");
        SettingException.Check(Channels is 1 or 3, "channels", Channels, "1 (grayscale) or 3 (RGB)");
        SettingException.Check(Crop is null or >= 1, "crop", Crop, "a positive number of pixels");
        SettingException.Check(Count is null or >= 1, "count", Count, "at least 1 image");
        SettingException.Check(HeldOut >= 0, "heldout", HeldOut, "0 or more images");
        SettingException.Check(CelebAAttributes is null or { Count: >= 1 and <= Data.CelebAAttributes.MaxAttributes }, "celeba_attributes", CelebAAttributes, $"1 to {Data.CelebAAttributes.MaxAttributes} attribute names");
    }

    /// <summary>The labels these options give <paramref name="source"/>: its CelebA attributes when named, else its own.</summary>
    public SourceLabels? LabelsOf(ImageSource source) => CelebAAttributes is null
        ? source.Labels
        : source is CelebASource celeba ? celeba.AttributeLabels(CelebAAttributes)
        : throw new ArgumentException($"celeba_attributes = {string.Join(',', CelebAAttributes)}: {source.Description} is not a CelebA folder");
}

/// <summary>Progress of <c>DatasetPreparer.Run</c>: images accepted so far out of the target.</summary>
public sealed record PrepareProgress(int Done, int Total);

/// <summary>An image left out by <c>--skip-bad</c>, and why.</summary>
public sealed record SkippedItem(string Name, string Reason);

/// <summary>What <c>DatasetPreparer.Run</c> wrote.</summary>
public sealed record PrepareResult(string Path, int Count, int HeldOut, int Channels, int Resolution, IReadOnlyList<SkippedItem> Skipped, string ContentSha256);

/// <summary>
/// Selects a seeded subset of a source, crops and resizes it, and writes a prepared dataset with provenance. The
/// subset is the first Count (then HeldOut) usable images of a seeded permutation, sorted back into source order, so
/// the same options always give the same file whatever the thread count.
/// </summary>
public static class DatasetPreparer
{
    private const int ChunkSize = 64;

    /// <summary>Runs the preparation; nothing is written unless it succeeds.</summary>
    public static PrepareResult Run(ImageSource source, string outputPath, PrepareOptions options, IProgress<PrepareProgress>? progress = null, CancellationToken cancel = default) =>
        Run(source, null, outputPath, options, progress, cancel);

    /// <summary>
    /// Runs the preparation with the held-out images drawn from <paramref name="heldOutSource"/> (for example a
    /// dataset's official test split) instead of from <paramref name="source"/>; null draws them from the source.
    /// </summary>
    public static PrepareResult Run(ImageSource source, ImageSource? heldOutSource, string outputPath, PrepareOptions options, IProgress<PrepareProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var labels = options.LabelsOf(source);
        var heldOutLabels = heldOutSource is null ? labels : options.LabelsOf(heldOutSource);
        if (labels is not null && heldOutLabels is not null && !labels.ClassNames.SequenceEqual(heldOutLabels.ClassNames))
            throw new InvalidDataException($"{heldOutSource!.Description}: its classes ({string.Join(", ", heldOutLabels.ClassNames)}) differ from the training source's ({string.Join(", ", labels.ClassNames)})");
        if (labels is null || heldOutLabels is null) (labels, heldOutLabels) = (null, null);
        var wantTrain = options.Count ?? source.Count - (heldOutSource is null ? options.HeldOut : 0);
        var wantHeld = options.HeldOut;
        if (heldOutSource is null ? wantTrain < 1 || wantTrain + wantHeld > source.Count : wantTrain < 1 || wantTrain > source.Count || wantHeld > heldOutSource.Count)
            throw new ArgumentException($"{source.Description}: asked for {options.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all"} training + {options.HeldOut} held-out images, the source has {source.Count}{(heldOutSource is null ? "" : $" and the held-out source {heldOutSource.Count}")}");
        var transform = new SquareTransform(options.Resolution, options.Crop);
        var skipped = new List<SkippedItem>();
        var total = wantTrain + wantHeld;
        List<Item> train, heldOut;
        if (heldOutSource is null)
        {
            var accepted = Select(source, RandomStreams.For(RandomStream.PrepareSubset, options.Seed), total, options, transform, skipped, done => progress?.Report(new PrepareProgress(done, total)), cancel);
            // Without --count, "all" means every usable image once bad ones are skipped.
            if (options.Count is null && accepted.Count < total) wantTrain = accepted.Count - wantHeld;
            if (accepted.Count < total && (options.Count is not null || wantTrain < 1))
                throw new InvalidDataException($"{source.Description}: only {accepted.Count} usable images ({skipped.Count} skipped), {(options.Count is null ? wantHeld + 1 : total)} needed");
            train = accepted.Take(wantTrain).OrderBy(a => a.Index).ToList();
            heldOut = accepted.Skip(wantTrain).OrderBy(a => a.Index).ToList();
        }
        else
        {
            var trainAccepted = Select(source, RandomStreams.For(RandomStream.PrepareSubset, options.Seed), wantTrain, options, transform, skipped, done => progress?.Report(new PrepareProgress(done, total)), cancel);
            if (trainAccepted.Count < wantTrain && (options.Count is not null || trainAccepted.Count < 1))
                throw new InvalidDataException($"{source.Description}: only {trainAccepted.Count} usable images ({skipped.Count} skipped), {wantTrain} needed");
            var heldAccepted = Select(heldOutSource, RandomStreams.For(RandomStream.PrepareHeldOutSubset, options.Seed), wantHeld, options, transform, skipped, done => progress?.Report(new PrepareProgress(trainAccepted.Count + done, total)), cancel);
            if (heldAccepted.Count < wantHeld)
                throw new InvalidDataException($"{heldOutSource.Description}: only {heldAccepted.Count} usable held-out images ({skipped.Count} skipped), {wantHeld} needed");
            train = trainAccepted.OrderBy(a => a.Index).ToList();
            heldOut = heldAccepted.OrderBy(a => a.Index).ToList();
        }

        var contentHash = CombinedHash(train.Concat(heldOut).Select(a => a.Hash));
        var provenance = new
        {
            Source = source.Description,
            SourceKind = source.Kind,
            HeldOutSource = heldOutSource?.Description,
            ContentSha256 = contentHash,
            Count = train.Count,
            HeldOut = heldOut.Count,
            SubsetSeed = options.Seed,
            Crop = options.Crop?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "largest centred square",
            options.Resolution,
            options.Channels,
            Resize = "area average",
            Classes = labels?.ClassNames.Count,
            CelebaAttributes = options.CelebAAttributes,
            Skipped = skipped.Count,
            SkippedItems = skipped.Take(100).Select(s => new { s.Name, s.Reason }).ToList(),
            Tool = ToolVersion.Describe(),
        };
        using (var scope = torch.NewDisposeScope())
        {
            var images = Stack(train.Select(a => a.Chw).ToList(), options.Channels, options.Resolution);
            var held = heldOut.Count > 0 ? Stack(heldOut.Select(a => a.Chw).ToList(), options.Channels, options.Resolution) : null;
            var datasetLabels = labels is null ? null : new DatasetLabels(
                train.Select(a => (long)labels.Ids[a.Index]).ToArray(),
                heldOut.Select(a => (long)heldOutLabels!.Ids[a.Index]).ToArray(),
                labels.ClassNames);
            PreparedDataset.Write(outputPath, images, held, provenance, datasetLabels);
        }
        return new PrepareResult(outputPath, train.Count, heldOut.Count, options.Channels, options.Resolution, skipped, contentHash);
    }

    private sealed record Item(int Index, byte[] Chw, byte[] Hash);

    /// <summary>The first <paramref name="want"/> usable images of a seeded permutation of <paramref name="source"/>, in permutation order.</summary>
    private static List<Item> Select(ImageSource source, SeededRandom random, int want, PrepareOptions options, SquareTransform transform, List<SkippedItem> skipped, Action<int> reportDone, CancellationToken cancel)
    {
        var order = random.Permutation(source.Count);
        var accepted = new List<Item>(want);
        for (var position = 0; accepted.Count < want && position < order.Length; position += ChunkSize)
        {
            cancel.ThrowIfCancellationRequested();
            var chunk = order.AsSpan(position, Math.Min(ChunkSize, order.Length - position)).ToArray();
            var results = new (byte[]? chw, byte[]? hash, string? error)[chunk.Length];
            Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancel }, i =>
            {
                var index = chunk[i];
                try
                {
                    var raw = source.ReadRaw(index);
                    var image = source.Decode(index, raw, options.Channels);
                    results[i] = (transform.Apply(image, source.ItemName(index)), SHA256.HashData(raw), null);
                }
                catch (Exception e) when (e is InvalidDataException or IOException or TorchException)
                {
                    results[i] = (null, null, e.Message);
                }
            });
            for (var i = 0; i < chunk.Length && accepted.Count < want; i++)
            {
                var (chw, hash, error) = results[i];
                if (error is not null)
                {
                    if (!options.SkipBad) throw new InvalidDataException(error.StartsWith(source.ItemName(chunk[i]), StringComparison.Ordinal) ? error : $"{source.ItemName(chunk[i])}: {error}");
                    skipped.Add(new SkippedItem(source.ItemName(chunk[i]), error));
                    continue;
                }
                accepted.Add(new Item(chunk[i], chw!, hash!));
            }
            reportDone(accepted.Count);
        }
        return accepted;
    }

    private static string CombinedHash(IEnumerable<byte[]> hashes)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var h in hashes) sha.AppendData(h);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Builds a uint8 [N, C, R, R] tensor from CHW images.</summary>
    internal static unsafe Tensor Stack(IReadOnlyList<byte[]> images, int channels, int resolution)
    {
        var perImage = channels * resolution * resolution;
        var tensor = torch.empty([images.Count, channels, resolution, resolution], ScalarType.Byte);
        var destination = (byte*)tensor.data_ptr();
        for (var i = 0; i < images.Count; i++) images[i].CopyTo(new Span<byte>(destination + (long)i * perImage, perImage));
        return tensor;
    }
}
