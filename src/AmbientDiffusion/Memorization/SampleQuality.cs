using System.Text.Json;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Memorization;

/// <summary>The quality measure of a sample set: pixel-space Fréchet distances (not FID: no pretrained network can be
/// downloaded here; samples.npz is there for FID tools).</summary>
/// <param name="Downsample">Side of the area-averaged pixel space the distance is computed in.</param>
/// <param name="Reference">Which clean images the samples are compared with: heldout (preferred) or train.</param>
/// <param name="Samples">Sample count.</param>
/// <param name="ReferenceCount">Reference image count.</param>
/// <param name="FdSamples">Fréchet distance between the samples and the reference images.</param>
/// <param name="FdTrainBaseline">Fréchet distance between training and held-out images: what a perfect model would
/// score, up to sample size (null without held-out images).</param>
/// <param name="FdSamplesTrain">The generalization gap's other half: Fréchet distance between the samples and the
/// training images, in the same space (null without held-out images, when <paramref name="FdSamples"/> is already
/// against the training images). A model that copies is closer to its training set than to held-out images of the
/// same distribution: FdSamplesTrain well below FdSamples. With few training images the training-side estimate is the
/// noisier (and biased upwards: FD grows as the reference shrinks), so compare the gap across runs of one N.</param>
public sealed record SampleQuality(int Downsample, string Reference, int Samples, int ReferenceCount, double FdSamples, double? FdTrainBaseline, double? FdSamplesTrain = null)
{
    /// <summary>FD against held-out images minus FD against the training images (null without held-out images).</summary>
    public double? GeneralizationGap => FdSamplesTrain is { } train ? FdSamples - train : null;

    /// <summary>File name inside a report folder.</summary>
    public const string FileName = "quality.json";

    private static readonly JsonSerializerOptions Json = Common.FiniteJson.SnakeCase(indented: true);

    /// <summary>
    /// Compares <paramref name="samplesPath"/> with the clean images of <paramref name="preparedPath"/> (its held-out
    /// split when it has one, its training images otherwise) in a <paramref name="downsample"/>² pixel space.
    /// </summary>
    public static SampleQuality Measure(string samplesPath, string preparedPath, int downsample)
    {
        using var scope = torch.NewDisposeScope();
        var samples = MemorizationInputs.ReadImages(samplesPath, SetRole.Samples);
        var (train, heldOut) = MemorizationInputs.ReadTraining(preparedPath);
        MemorizationInputs.CheckCompatible(samples, train);
        return Measure(samples, train, heldOut, downsample);
    }

    /// <summary>The same for image sets already read (the analyzer's): the samples against <paramref name="heldOut"/>
    /// when given, <paramref name="train"/> otherwise, with train-vs-held-out as the floor.</summary>
    public static SampleQuality Measure(ImageSet samples, ImageSet train, ImageSet? heldOut, int downsample)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var side = (int)Math.Min(downsample, samples.ImageShape.H);
        Tensor Features(ImageSet set) => FeatureSpaces.Compute(FeatureSpaceKind.Downsampled, set.Images, Device.CPU, side);
        var reference = heldOut ?? train;
        var referenceFeatures = Features(reference);
        var sampleFeatures = Features(samples);
        var fd = FrechetDistance.Compute(sampleFeatures, referenceFeatures);
        var trainFeatures = heldOut is null ? null : Features(train);
        double? floor = trainFeatures is null ? null : FrechetDistance.Compute(trainFeatures, referenceFeatures);
        double? toTrain = trainFeatures is null ? null : FrechetDistance.Compute(sampleFeatures, trainFeatures);
        return new SampleQuality(side, (heldOut is null ? SetRole.Train : SetRole.HeldOut).Name(), samples.Count, reference.Count, fd, floor, toTrain);
    }

    /// <summary>Writes quality.json into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllBytes(Path.Combine(folder, FileName), JsonSerializer.SerializeToUtf8Bytes(this, Json));
    }

    /// <summary>Reads quality.json from <paramref name="folder"/>, or null.</summary>
    public static SampleQuality? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<SampleQuality>(File.ReadAllBytes(path), Json) : null;
    }

    /// <summary>One line for logs.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"pixel Fréchet distance ({Downsample}x{Downsample}) to {ReferenceCount} {Reference} images: {FdSamples:G4}")
        + (FdTrainBaseline is { } b ? FormattableString.Invariant($" (train vs held-out: {b:G4})") : "")
        + (FdSamplesTrain is { } t ? FormattableString.Invariant($"; to the training images: {t:G4}") : "");
}
