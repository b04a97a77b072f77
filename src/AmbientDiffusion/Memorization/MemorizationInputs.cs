using System.Security.Cryptography;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Memorization;

/// <summary>Where one input of a report came from: file, its SHA-256, the tensor read and its shape.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Sha256">SHA-256 of the whole file, lowercase hex.</param>
/// <param name="Tensor">Name of the tensor read from it.</param>
/// <param name="Shape">Shape of that tensor.</param>
public sealed record InputFile(string Path, string Sha256, string Tensor, long[] Shape);

/// <summary>A set of uint8 [N, C, H, W] images (in the dispose scope that was current when it was read).</summary>
/// <param name="Role">What the set is in the analysis.</param>
/// <param name="Source">Its file.</param>
/// <param name="Images">The images, on the CPU.</param>
public sealed record ImageSet(SetRole Role, InputFile Source, Tensor Images)
{
    /// <summary>Number of images.</summary>
    public int Count => (int)Source.Shape[0];

    /// <summary>(channels, height, width).</summary>
    public (long C, long H, long W) ImageShape => (Source.Shape[1], Source.Shape[2], Source.Shape[3]);
}

/// <summary>
/// Reads the analyzer's inputs: generated samples, the clean training set (a prepared dataset: with <c>corrupt</c>,
/// the only reader of clean data), an optional held-out set and optional external feature files; checks that they
/// fit together and says which file is wrong and what was expected when they do not.
/// </summary>
public static class MemorizationInputs
{
    /// <summary>Tensor name of generated samples (written by the sampler, format <see cref="SamplesFormat"/>).</summary>
    public const string SamplesKey = "samples";

    /// <summary>Metadata format of the sampler's output.</summary>
    public const string SamplesFormat = "ambient/samples/1";

    /// <summary>Tensor name in external feature files.</summary>
    public const string FeaturesKey = "features";

    /// <summary>
    /// Images from a samples file (tensor <c>samples</c>) or a prepared dataset (tensor <c>images</c>), whichever
    /// the file holds first in that order.
    /// </summary>
    public static ImageSet ReadImages(string path, SetRole role)
    {
        using var file = SafeTensors.Open(path);
        var name = file.Contains(SamplesKey) ? SamplesKey
            : file.Contains(PreparedDataset.ImagesKey) ? PreparedDataset.ImagesKey
            : throw new InvalidDataException($"{path}: no '{SamplesKey}' or '{PreparedDataset.ImagesKey}' tensor for the {role.Name()} set (a samples file of format {SamplesFormat} or a prepared dataset was expected; it has: {string.Join(", ", file.Keys)})");
        var info = file.Info(name);
        CheckImages(path, role, info);
        return new ImageSet(role, new InputFile(Path.GetFullPath(path), Sha256(path), name, info.Shape), file.GetTensor(name));
    }

    /// <summary>The training images of a prepared dataset, and its held-out images when it has them.</summary>
    public static (ImageSet train, ImageSet? heldOut) ReadTraining(string path)
    {
        using var prepared = PreparedDataset.Open(path);
        var hash = Sha256(path);
        var full = Path.GetFullPath(path);
        var shape = new long[] { prepared.Count, prepared.Channels, prepared.Height, prepared.Width };
        if (prepared.Count == 0) throw new InvalidDataException($"{path}: the training set is empty (0 images)");
        var train = new ImageSet(SetRole.Train, new InputFile(full, hash, PreparedDataset.ImagesKey, shape), prepared.Images());
        ImageSet? heldOut = null;
        if (prepared.HeldOutImages() is { } held)
            heldOut = new ImageSet(SetRole.HeldOut, new InputFile(full, hash, PreparedDataset.HeldOutKey, held.shape), held);
        return (train, heldOut);
    }

    /// <summary>Throws unless <paramref name="set"/> has the training set's channels, height and width.</summary>
    public static void CheckCompatible(ImageSet set, ImageSet train)
    {
        if (set.ImageShape != train.ImageShape)
        {
            var (c, h, w) = set.ImageShape;
            var (tc, th, tw) = train.ImageShape;
            throw new InvalidDataException($"{set.Source.Path}: the {set.Role.Name()} images are {c}x{h}x{w} (channels x height x width), the training set {train.Source.Path} holds {tc}x{th}x{tw} images; they must match");
        }
    }

    /// <summary>
    /// External features (float32 [N, D] tensor <c>features</c>) for <paramref name="set"/>: one row per image, same
    /// order; <paramref name="width"/> (when given) is the width the other feature files have.
    /// </summary>
    public static (InputFile source, Tensor features) ReadFeatures(string path, ImageSet set, long? width)
    {
        var shape = CheckFeatureFile(path, set.Count, $"the {set.Role.Name()} set {set.Source.Path}, tensor '{set.Source.Tensor}'", width);
        using var file = SafeTensors.Open(path);
        var features = file.GetTensor(FeaturesKey);
        FiniteValues.Require(features, $"feature file {path}", FeaturesKey);
        return (new InputFile(Path.GetFullPath(path), Sha256(path), FeaturesKey, shape), features);
    }

    /// <summary>
    /// Checks an external feature file from its header alone (it exists, holds a float32 [<paramref name="rows"/>, D]
    /// tensor <c>features</c>, D ≥ 1 and equal to <paramref name="width"/> when given), so that a pipeline can check it
    /// before training; returns its shape. <paramref name="rowsOf"/> says whose rows they are, for the message.
    /// </summary>
    public static long[] CheckFeatureFile(string path, long rows, string rowsOf, long? width = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such feature file (expected float32 [{rows}, D] '{FeaturesKey}', one row per image of {rowsOf})", path);
        using var file = SafeTensors.Open(path);
        if (!file.Contains(FeaturesKey))
            throw new InvalidDataException($"{path}: no '{FeaturesKey}' tensor (expected float32 [{rows}, D], one row per image of {rowsOf}; it has: {string.Join(", ", file.Keys)})");
        var info = file.Info(FeaturesKey);
        if (info.Dtype != ScalarType.Float32 || info.Shape.Length != 2)
            throw new InvalidDataException($"{path}: '{FeaturesKey}' must be float32 [N, D], got {info.Dtype} [{string.Join(", ", info.Shape)}]");
        if (info.Shape[0] != rows)
            throw new InvalidDataException($"{path}: '{FeaturesKey}' has {info.Shape[0]} rows, expected {rows} (one per image of {rowsOf})");
        if (info.Shape[1] < 1) throw new InvalidDataException($"{path}: '{FeaturesKey}' has no columns");
        if (width is { } expected && info.Shape[1] != expected)
            throw new InvalidDataException($"{path}: '{FeaturesKey}' has {info.Shape[1]} columns, the other feature files {expected}; all sets must use the same feature extractor");
        return info.Shape;
    }

    private static void CheckImages(string path, SetRole role, SafeTensorInfo info)
    {
        if (info.Dtype != ScalarType.Byte || info.Shape.Length != 4 || info.Shape[1] is not (1 or 3))
            throw new InvalidDataException($"{path}: '{info.Name}' ({role.Name()} set) must be uint8 [N, C, H, W] with C 1 or 3, got {info.Dtype} [{string.Join(", ", info.Shape)}]");
        if (info.Shape[0] == 0) throw new InvalidDataException($"{path}: the {role.Name()} set is empty (0 images in '{info.Name}')");
    }

    /// <summary>SHA-256 of a file, lowercase hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
