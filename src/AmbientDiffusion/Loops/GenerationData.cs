using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Loops;

/// <summary>A synthetic set entering a generation: the samples file of the generation that drew it, and the σ_tn of each
/// of its images in the ambient arm (null: the images enter as clean data).</summary>
public sealed record SyntheticPart(int Generation, string SamplesPath, IReadOnlyList<float>? SigmaTn);

/// <summary>
/// Writes the two training files of a generation, real images first, then each synthetic set in plan order:
/// <list type="bullet">
/// <item>the corrupted dataset training reads: the real images as the loop's corruption left them, and the synthetic images
/// with full masks, either as stored (σ_n = 0) or, in the ambient arm, as x + σ_tn·z with σ_n = σ_tn (z keyed by the
/// loop seed, the set's generation and the image, so an image carries the same noise into every later generation);</item>
/// <item>a prepared dataset of the same images before corruption, with the original held-out split, which the
/// memorization analysis compares the generation's samples with and the evaluation scores them against.</item>
/// </list>
/// Observations stay uint8 unless some image is noisy, so a σ_tn of 0 writes exactly the plain arm's file.
/// </summary>
public static class GenerationData
{
    /// <summary>Writes <paramref name="corruptedPath"/> and <paramref name="cleanPath"/> for <paramref name="plan"/>.</summary>
    public static void Write(GenerationPlan plan, string preparedPath, string realCorruptedPath, IReadOnlyList<SyntheticPart> synthetic, ulong seed,
        string corruptedPath, string cleanPath)
    {
        using var scope = torch.NewDisposeScope();
        using var prepared = PreparedDataset.Open(preparedPath);
        using var real = CorruptedDataset.Open(realCorruptedPath);
        if (real.Count != prepared.Count)
            throw new InvalidDataException($"{realCorruptedPath}: {real.Count} images, but the prepared dataset {preparedPath} has {prepared.Count}: they must be the same images");
        var (c, h, w, mc) = (real.Channels, real.Height, real.Width, real.MaskChannels);
        var pixels = c * h * w;
        var sets = synthetic.Select(part => ReadSamples(part, (c, h, w))).ToList();
        var total = plan.RealIndices.Count + sets.Sum(s => s.Count);
        var noisy = real.ObservationType == ScalarType.Float16 || synthetic.Any(p => p.SigmaTn?.Any(s => s > 0) == true);

        var clean = new byte[(long)total * pixels];
        var values = new float[(long)total * pixels];
        var masks = new byte[(long)total * mc * h * w];
        var sigmas = new float[total];
        var observation = new float[pixels];
        var mask = new float[mc * h * w];
        var row = 0;
        foreach (var index in plan.RealIndices)
        {
            prepared.ReadImage(index, clean.AsSpan(row * pixels, pixels));
            real.ReadSample(index, observation, mask);
            observation.CopyTo(values.AsSpan(row * pixels, pixels));
            for (var i = 0; i < mask.Length; i++) masks[(long)row * mask.Length + i] = (byte)mask[i];
            sigmas[row++] = real.NoiseSigma(index);
        }
        foreach (var set in sets)
        {
            for (var k = 0; k < set.Count; k++, row++)
            {
                var image = set.Pixels.AsSpan(k * pixels, pixels);
                image.CopyTo(clean.AsSpan(row * pixels, pixels));
                var sigma = set.Part.SigmaTn?[k] ?? 0f;
                var random = sigma > 0 ? RandomStreams.For(RandomStream.LoopSyntheticNoise, seed, (ulong)set.Part.Generation, (ulong)k) : null;
                for (var i = 0; i < pixels; i++)
                    values[(long)row * pixels + i] = image[i] / 127.5f - 1f + (random is null ? 0f : sigma * (float)random.NextGaussian());
                masks.AsSpan(row * mask.Length, mask.Length).Fill(1);
                sigmas[row] = sigma;
            }
        }

        var labels = Labels(plan, prepared, real, sets);
        var observations = noisy
            ? torch.tensor(values.Select(v => (Half)v).ToArray(), [total, c, h, w])
            : torch.tensor(values.Select(v => (byte)Math.Round((v + 1f) * 127.5f)).ToArray(), [total, c, h, w]);
        var metadata = new Dictionary<string, string>(real.Metadata)
        {
            ["format"] = CorruptedDataset.FormatName,
            ["observation_encoding"] = noisy ? "float16, [-1, 1] units, removed pixels 0" : "uint8 (x/127.5 - 1 gives [-1, 1]), removed pixels 0",
            ["loop_generation"] = JsonSerializer.Serialize(new
            {
                generation = plan.Generation,
                real_images = plan.RealIndices.Count,
                synthetic_sets = synthetic.Select(p => new { generation = p.Generation, samples = p.SamplesPath, noisy = p.SigmaTn is not null }).ToList(),
                real_source = realCorruptedPath,
            }, ProvenanceJson.Options),
        };
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new(CorruptedDataset.ObservationsKey, observations),
            new(CorruptedDataset.MasksKey, torch.tensor(masks, [total, mc, h, w])),
            new(CorruptedDataset.NoiseSigmaKey, torch.tensor(sigmas, [total])),
        };
        if (labels is not null) tensors.Add(new(DatasetLabels.LabelsKey, torch.tensor(labels, [total])));
        else metadata.Remove(DatasetLabels.ClassNamesKey);
        SafeTensors.Save(corruptedPath, tensors, metadata);

        var heldOut = prepared.HeldOutImages();
        var datasetLabels = labels is null ? null : new DatasetLabels(labels, prepared.HeldOutLabels ?? [], prepared.ClassNames!);
        PreparedDataset.Write(cleanPath, torch.tensor(clean, [total, c, h, w]), heldOut, new { Source = preparedPath, LoopGeneration = plan.Generation, Real = plan.RealIndices.Count, Synthetic = sets.Sum(s => s.Count) }, datasetLabels);
    }

    private sealed record SyntheticImages(SyntheticPart Part, int Count, byte[] Pixels, long[]? Labels);

    private static SyntheticImages ReadSamples(SyntheticPart part, (int C, int H, int W) geometry)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SampleSet.Open(part.SamplesPath);
        var samples = file.GetTensor(SampleSet.SamplesKey);
        long[] expected = [samples.shape[0], geometry.C, geometry.H, geometry.W];
        if (!samples.shape.SequenceEqual(expected))
            throw new InvalidDataException($"{part.SamplesPath}: samples of shape [{string.Join(", ", samples.shape)}], expected [N, {geometry.C}, {geometry.H}, {geometry.W}] like the real images");
        var count = (int)samples.shape[0];
        if (part.SigmaTn is { } levels && levels.Count != count)
            throw new ArgumentException($"{part.SamplesPath}: {count} samples but {levels.Count} σ_tn values");
        var labels = file.Contains(DatasetLabels.LabelsKey) ? file.GetTensor(DatasetLabels.LabelsKey).data<long>().ToArray() : null;
        return new SyntheticImages(part, count, samples.contiguous().data<byte>().ToArray(), labels);
    }

    /// <summary>Labels when every part has them (a class-conditional loop), else none.</summary>
    private static long[]? Labels(GenerationPlan plan, PreparedDataset prepared, CorruptedDataset real, IReadOnlyList<SyntheticImages> sets)
    {
        if (real.Labels is null || prepared.ClassNames is null || sets.Any(s => s.Labels is null)) return null;
        return [.. plan.RealIndices.Select(i => real.Labels[i]), .. sets.SelectMany(s => s.Labels!)];
    }
}
