using AmbientDiffusion.Data;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Classification;

/// <summary>Labelled uint8 images [N, C, H, W] read from a file, with their class names and what they are.</summary>
public sealed record LabelledImages(Tensor Images, long[] Labels, IReadOnlyList<string>? ClassNames, string Description)
{
    /// <summary>
    /// Reads <paramref name="path"/>: a prepared dataset (its held-out split, or the training images when
    /// <paramref name="heldOut"/> is false or it holds none) or a samples file (<c>samples</c> with int64 <c>labels</c>).
    /// The images belong to the caller's dispose scope.
    /// </summary>
    public static LabelledImages Read(string path, bool heldOut = true)
    {
        string? format;
        using (var probe = SafeTensors.Open(path)) probe.Metadata.TryGetValue("format", out format);
        if (format == SampleSet.FormatName)
        {
            using var file = SafeTensors.Open(path);
            if (!file.Contains(SampleSet.SamplesKey)) throw new InvalidDataException($"{path}: no '{SampleSet.SamplesKey}' tensor");
            if (!file.Contains(DatasetLabels.LabelsKey)) throw new InvalidDataException($"{path}: the samples have no '{DatasetLabels.LabelsKey}' tensor (class labels are needed to score a classifier)");
            var images = file.GetTensor(SampleSet.SamplesKey);
            var names = DatasetLabels.ReadClassNames(file);
            var count = (int)images.shape[0];
            if (names is null)
            {
                // Without class names, labels are only checked to be non-negative here; the classifier's classes bound them.
                var info = file.Info(DatasetLabels.LabelsKey);
                if (info.Dtype != ScalarType.Int64 || info.Shape is not [var n] || n != count)
                    throw new InvalidDataException($"{path}: '{DatasetLabels.LabelsKey}' must be int64 [{count}], got {info.Dtype} [{string.Join(", ", info.Shape)}]");
                var raw = file.GetTensor(DatasetLabels.LabelsKey).data<long>();
                return new LabelledImages(images, raw, null, $"{count} samples of {path}");
            }
            return new LabelledImages(images, DatasetLabels.ReadLabels(file, DatasetLabels.LabelsKey, count, names), names, $"{count} samples of {path}");
        }
        using var prepared = PreparedDataset.Open(path);
        if (prepared.Labels is null || prepared.ClassNames is null)
            throw new InvalidDataException($"{path}: the prepared dataset has no class labels (prepare it from a labelled source: IDX with a labels file, class sub-folders, or --celeba-attributes)");
        if (heldOut && prepared.HeldOutCount > 0)
            return new LabelledImages(prepared.HeldOutImages()!, prepared.HeldOutLabels!, prepared.ClassNames, $"{prepared.HeldOutCount} held-out images of {path}");
        return new LabelledImages(prepared.Images(), prepared.Labels, prepared.ClassNames, $"{prepared.Count} training images of {path}");
    }
}
