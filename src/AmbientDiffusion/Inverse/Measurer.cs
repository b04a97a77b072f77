using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>Makes the measurements y = A x + σ_y z of prepared-dataset images and writes the measurement artifact.</summary>
public static class Measurer
{
    /// <summary>Images measured per batch.</summary>
    private const int BatchSize = 256;

    /// <summary>
    /// Measures the images <paramref name="indices"/> of <paramref name="split"/>: the operator state and the noise of
    /// image i come from streams keyed by (seed, i), so a measurement does not depend on which others are made.
    /// </summary>
    public static void Run(PreparedDataset source, MeasuredSplit split, IReadOnlyList<long> indices, OperatorSpec spec, ulong seed, string outputPath)
    {
        var available = split == MeasuredSplit.Heldout ? source.HeldOutCount : source.Count;
        if (indices.Count == 0) throw new ArgumentException("no images to measure");
        foreach (var i in indices)
            if (i < 0 || i >= available) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{source.Path}: image {i} is outside the {available} {Common.Yaml.EnumName(split)} images");
        var shape = new ImageShape(source.Channels, source.Height, source.Width);
        using var scope = torch.NewDisposeScope();
        var state = ForwardOperators.Draw(spec, shape, seed, indices);
        var parts = new List<Tensor>();
        for (var start = 0; start < indices.Count; start += BatchSize)
        {
            using var batchScope = torch.NewDisposeScope();
            var batch = indices.Skip(start).Take(BatchSize).ToList();
            var x = ReadImages(source, split, batch, shape);
            var op = ForwardOperators.Create(spec, shape, state.Slice(start, batch.Count));
            var y = op.Apply(x);
            if (spec.NoiseSigma > 0) y = y + ForwardOperators.Noise(spec, op.MeasurementShape, seed, batch);
            parts.Add(batchScope.MoveToOuter(y));
        }
        var provenance = new Dictionary<string, string>
        {
            ["source_file_sha256"] = source.FileSha256(),
            ["source_provenance"] = source.Provenance,
        };
        MeasurementArtifact.Write(outputPath, spec, shape, seed, split, torch.cat(parts, 0), [.. indices], state, provenance);
    }

    /// <summary>The given images of a split in [-1, 1]: float64 [B, C, H, W].</summary>
    public static Tensor ReadImages(PreparedDataset source, MeasuredSplit split, IReadOnlyList<long> indices, ImageShape shape)
    {
        var bytes = new byte[indices.Count * shape.Pixels];
        for (var b = 0; b < indices.Count; b++)
        {
            var target = bytes.AsSpan(b * shape.Pixels, shape.Pixels);
            if (split == MeasuredSplit.Heldout) source.ReadHeldOut((int)indices[b], target);
            else source.ReadImage((int)indices[b], target);
        }
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(torch.tensor(bytes, [indices.Count, shape.Channels, shape.Height, shape.Width]).to(ScalarType.Float64) / 127.5 - 1);
    }
}
