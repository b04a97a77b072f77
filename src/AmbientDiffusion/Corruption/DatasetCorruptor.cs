using System.Runtime.InteropServices;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Corruption;

/// <summary>Progress of <see cref="DatasetCorruptor.Run"/>.</summary>
public sealed record CorruptProgress(int Done, int Total);

/// <summary>
/// Turns a prepared dataset into a corrupted-dataset artifact. Each image's corruption comes from a generator keyed by
/// (seed, index) alone, so the artifact is byte-identical for the same inputs whatever the thread count.
/// </summary>
public static class DatasetCorruptor
{
    /// <summary>Corrupts every training image of <paramref name="source"/> and writes the artifact atomically.</summary>
    public static unsafe void Run(PreparedDataset source, CorruptionOperator corruption, ulong seed, string outputPath, IProgress<CorruptProgress>? progress = null, CancellationToken cancel = default)
    {
        var (n, c, h, w) = (source.Count, source.Channels, source.Height, source.Width);
        var maskChannels = corruption.PerChannel ? c : 1;
        var noisy = corruption.AddsNoise;
        using var scope = torch.NewDisposeScope();
        var observations = torch.empty([n, c, h, w], noisy ? ScalarType.Float16 : ScalarType.Byte);
        var masks = torch.empty([n, maskChannels, h, w], ScalarType.Byte);
        var sigmas = torch.empty([n], ScalarType.Float32);
        // Workers write straight into the tensors' storage (each image to its own slice).
        var (obsAddress, maskAddress, sigmaAddress) = (observations.data_ptr(), masks.data_ptr(), sigmas.data_ptr());
        var pixels = c * h * w;
        var maskSize = maskChannels * h * w;
        var done = 0;
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancel }, () => new byte[pixels], (index, _, clean) =>
        {
            source.ReadImage(index, clean);
            var values = new float[pixels];
            for (var i = 0; i < pixels; i++) values[i] = clean[i] / 127.5f - 1f;
            var sample = new CorruptionSample(values, c, h, w, maskChannels);
            corruption.Apply(sample, CorruptionOperator.RandomFor(seed, index));
            sample.ZeroRemoved();
            sample.Mask.CopyTo(new Span<byte>((byte*)maskAddress + (long)index * maskSize, maskSize));
            ((float*)sigmaAddress)[index] = (float)sample.NoiseSigma;
            if (noisy)
            {
                var target = new Span<Half>((byte*)obsAddress + (long)index * pixels * 2, pixels);
                for (var i = 0; i < pixels; i++) target[i] = (Half)sample.Pixels[i];
            }
            else
            {
                // Without noise the observed values are the original bytes; removed pixels become 0.
                var target = new Span<byte>((byte*)obsAddress + (long)index * pixels, pixels);
                for (var ch = 0; ch < c; ch++)
                    for (var i = 0; i < h * w; i++)
                        target[ch * h * w + i] = sample.Mask[(maskChannels == 1 ? 0 : ch) * h * w + i] == 0 ? (byte)0 : clean[ch * h * w + i];
            }
            var count = Interlocked.Increment(ref done);
            if (count % 256 == 0 || count == n) progress?.Report(new CorruptProgress(count, n));
            return clean;
        }, _ => { });

        var metadata = new Dictionary<string, string>
        {
            ["format"] = CorruptedDataset.FormatName,
            ["corruption"] = corruption.Describe(),
            ["corruption_spec"] = JsonSerializer.Serialize(CorruptionSpec.From(corruption), ProvenanceJson.Options),
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["observation_encoding"] = noisy ? "float16, [-1, 1] units, removed pixels 0" : "uint8 (x/127.5 - 1 gives [-1, 1]), removed pixels 0",
            ["source_file_sha256"] = source.FileSha256(),
            ["source_provenance"] = source.Provenance,
            ["tool"] = ToolVersion.Describe(),
        };
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new(CorruptedDataset.ObservationsKey, observations),
            new(CorruptedDataset.MasksKey, masks),
            new(CorruptedDataset.NoiseSigmaKey, sigmas),
        };
        // Labels pass through uncorrupted; unlabelled sources add nothing, so their artifacts are unchanged.
        if (source.Labels is { } labels)
        {
            tensors.Add(new(DatasetLabels.LabelsKey, torch.tensor(labels, [labels.LongLength])));
            metadata[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(source.ClassNames!);
        }
        SafeTensors.Save(outputPath, tensors, metadata);
    }

    /// <summary>Writes a PNG of the first <paramref name="count"/> images: each clean image next to its corrupted version
    /// (removed pixels magenta). Reads the clean images, so it is a tool for the data owner, not for training.</summary>
    public static void WritePreview(PreparedDataset clean, CorruptedDataset corrupted, int count, string pngPath)
    {
        count = Math.Min(count, Math.Min(clean.Count, corrupted.Count));
        if (count < 1) throw new ArgumentException($"preview count must be at least 1, got {count}");
        var (c, h, w) = (clean.Channels, clean.Height, clean.Width);
        var tiles = new List<byte[]>();
        var bytes = new byte[c * h * w];
        var values = new float[c * h * w];
        var observation = new float[c * h * w];
        var mask = new float[corrupted.MaskChannels * h * w];
        for (var i = 0; i < count; i++)
        {
            clean.ReadImage(i, bytes);
            for (var k = 0; k < bytes.Length; k++) values[k] = bytes[k] / 127.5f - 1f;
            corrupted.ReadSample(i, observation, mask);
            tiles.Add(ImageGrid.ToRgb(values, c, h, w));
            tiles.Add(ImageGrid.ToRgb(observation, c, h, w, mask, corrupted.MaskChannels));
        }
        // Pairs stay on one row: an even number of columns.
        var columns = Math.Min(16, 2 * count);
        AtomicFile.WriteAllBytes(pngPath, ImageSheet.Png(tiles, h, w, columns, gap: 2));
    }
}
