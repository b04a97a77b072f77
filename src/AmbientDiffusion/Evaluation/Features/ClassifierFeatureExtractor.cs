using AmbientDiffusion.Classification;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>
/// The in-product classifier's hidden layer (<see cref="ImageClassifier.FeatureDimension"/> ReLU units) as a feature
/// space: the MNIST-family counterpart of Inception features (Fréchet distance in it is the usual "FID" of small-image
/// papers). Images must have the classifier's geometry.
/// </summary>
public sealed class ClassifierFeatureExtractor : IFeatureExtractor
{
    private readonly TrainedClassifier _classifier;

    /// <summary>Wraps a loaded classifier; the extractor owns and disposes it.</summary>
    public ClassifierFeatureExtractor(TrainedClassifier classifier) => _classifier = classifier;

    /// <summary>Loads the classifier checkpoint <paramref name="path"/> (from <c>ambient classifier train</c>) on
    /// <paramref name="device"/> (CPU by default).</summary>
    public static ClassifierFeatureExtractor Open(string path, Device? device = null) => new(ClassifierCheckpoint.Load(path, device));

    /// <inheritdoc />
    public string Name => "classifier";

    /// <inheritdoc />
    public bool UnitNormalized => false;

    /// <summary>The images it takes.</summary>
    public ClassifierGeometry Geometry => _classifier.Model.Geometry;

    /// <summary>The classifier's record (class names, training data, held-out accuracy).</summary>
    public ClassifierInfo Info => _classifier.Info;

    /// <inheritdoc />
    public Tensor Extract(Tensor images, IProgress<long>? progress = null) =>
        ClassifierEvaluation.Map(_classifier.Model, images, _classifier.Model.Features, progress);

    /// <inheritdoc />
    public void Dispose() => _classifier.Dispose();
}
