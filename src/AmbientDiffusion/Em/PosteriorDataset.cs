using System.Text.Json;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Em;

/// <summary>
/// A round's E-step samples as the dataset its M-step trains on: a corrupted-format file (what the trainer reads) whose
/// observations are the uint8 posterior samples with full masks and σ_n = 0, so the ordinary trainer sees clean data
/// and trains plain EDM on them. Labels of a labelled artifact follow their observation. Beside it, a picture of the
/// first observations over their first samples.
/// </summary>
public static class PosteriorDataset
{
    /// <summary>Writes <paramref name="samples"/> (uint8 [N·K, C, H, W], observation-major) drawn from the observations of
    /// <paramref name="corruptedPath"/> to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, Tensor samples, string corruptedPath, int samplesPerObservation, int round, string posterior)
    {
        using var scope = torch.NewDisposeScope();
        using var source = CorruptedDataset.Open(corruptedPath);
        var rows = samples.shape[0];
        if (rows != (long)source.Count * samplesPerObservation)
            throw new InvalidDataException($"{path}: {rows} posterior samples for {source.Count} observations × {samplesPerObservation}");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = CorruptedDataset.FormatName,
            ["observation_encoding"] = "uint8 (x/127.5 - 1 gives [-1, 1]), posterior samples, every pixel observed",
            ["em_round"] = JsonSerializer.Serialize(new { round, observations = source.Count, samples_per_observation = samplesPerObservation, posterior, source = corruptedPath }, ProvenanceJson.Options),
        };
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new(CorruptedDataset.ObservationsKey, samples),
            new(CorruptedDataset.MasksKey, torch.ones([rows, 1, samples.shape[2], samples.shape[3]], ScalarType.Byte)),
            new(CorruptedDataset.NoiseSigmaKey, torch.zeros([rows], ScalarType.Float32)),
        };
        if (source.Labels is { } labels && source.ClassNames is { } names)
        {
            tensors.Add(new(DatasetLabels.LabelsKey, torch.tensor(labels.SelectMany(l => Enumerable.Repeat(l, samplesPerObservation)).ToArray(), [rows])));
            metadata[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(names);
        }
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>A PNG of the first <paramref name="count"/> observations (removed pixels in red) above their first samples.</summary>
    public static void WritePicture(string pngPath, Tensor samples, string corruptedPath, int samplesPerObservation, int count = 8)
    {
        using var source = CorruptedDataset.Open(corruptedPath);
        var (c, h, w) = (source.Channels, source.Height, source.Width);
        count = Math.Min(count, source.Count);
        var images = new List<byte[]>();
        var observation = new float[c * h * w];
        var mask = new float[source.MaskChannels * h * w];
        for (var i = 0; i < count; i++)
        {
            source.ReadSample(i, observation, mask);
            images.Add(ImageGrid.ToRgb(observation, c, h, w, mask, source.MaskChannels, (200, 40, 40)));
        }
        var bytes = samples.contiguous().data<byte>();
        for (var i = 0; i < count; i++)
            images.Add(ImageGrid.BytesToRgb(bytes.AsSpan(i * samplesPerObservation * c * h * w, c * h * w), c, h, w));
        AtomicFile.WriteAllBytes(pngPath, ImageSheet.Png(images, h, w, count, scale: Math.Max(1, 56 / h)));
    }
}
