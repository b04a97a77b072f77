using System.Diagnostics;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>One classifier of the score: what it was trained on and how it did on the real test set.</summary>
/// <param name="TrainedOn">"synthetic", "real" or "real + synthetic".</param>
/// <param name="TrainImages">Training images.</param>
/// <param name="Epochs">Passes over them.</param>
/// <param name="Top1">Top-1 accuracy on the real test set.</param>
/// <param name="PerClassAccuracy">Accuracy within each true class (null for a class without test images).</param>
/// <param name="ClassCounts">Test images of each class.</param>
/// <param name="Confusion">[true class][predicted class] → test images.</param>
/// <param name="TrainSeconds">Wall time of the training.</param>
public sealed record CasRun(string TrainedOn, int TrainImages, int Epochs, double Top1, double?[] PerClassAccuracy, long[] ClassCounts, long[][] Confusion, double TrainSeconds)
{
    /// <summary>The run's scores from a report.</summary>
    public static CasRun From(string trainedOn, int trainImages, int epochs, ClassificationReport report, double seconds)
    {
        var k = report.ClassNames.Count;
        var confusion = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, k).Select(p => report.Confusion[t, p]).ToArray()).ToArray();
        var perClass = report.PerClassAccuracy.Select(a => double.IsNaN(a) ? (double?)null : a).ToArray();
        return new CasRun(trainedOn, trainImages, epochs, report.Top1, perClass, report.ClassCounts, confusion, seconds);
    }
}

/// <summary>What <see cref="ClassificationAccuracyScore.Run"/> measured (every number of cas.json).</summary>
/// <param name="Synthetic">The synthetic set.</param>
/// <param name="RealTrain">The real training subset (as many images as the synthetic set).</param>
/// <param name="RealTest">The real test set.</param>
/// <param name="TestImages">Real test images.</param>
/// <param name="ClassNames">Class names (the real test set's order).</param>
/// <param name="Geometry">Image shape, CxHxW.</param>
/// <param name="Classifier">The classifier settings of all three runs.</param>
/// <param name="EpochRule">How each run's epochs follow from the settings.</param>
/// <param name="SyntheticOnly">Trained on synthetic images only: its top-1 is the Classification Accuracy Score.</param>
/// <param name="RealOnly">Trained on the same number of real images.</param>
/// <param name="Augmented">Trained on the real subset plus the synthetic images (naive augmentation).</param>
/// <param name="CasOverReal">CAS divided by the real baseline's top-1.</param>
/// <param name="Device">Where the classifiers trained.</param>
/// <param name="Tool">Versions.</param>
public sealed record CasResult(string Synthetic, string RealTrain, string RealTest, int TestImages, IReadOnlyList<string> ClassNames, string Geometry,
    ClassifierTrainingOptions Classifier, string EpochRule, CasRun SyntheticOnly, CasRun RealOnly, CasRun Augmented, double CasOverReal, string Device, string Tool);

/// <summary>Progress of the score: the stage ("read", "synthetic", "real", "real + synthetic") and images done of its total.</summary>
public sealed record CasProgress(string Stage, long Done, long Total);

/// <summary>
/// Classification Accuracy Score (Ravuri &amp; Vinyals 2019): the in-product classifier trained on synthetic images only
/// and scored on real test images, beside the same classifier trained on as many real images (a seeded subset of the
/// real training source) and on real + synthetic images (naive augmentation). All three runs share the classifier
/// settings and seed.
/// </summary>
public static class ClassificationAccuracyScore
{
    /// <summary>
    /// The epoch rule, stated once: the synthetic-only and real-only runs make the configured number of passes over
    /// their N images; the augmented run (2N images) makes ceil(epochs / 2), so every run sees about epochs × N images.
    /// </summary>
    public const string EpochRule = "synthetic-only and real-only: `epochs` passes over N images; real + synthetic (2N images): ceil(epochs / 2) passes, so each run sees about epochs × N images";

    /// <summary>The real training source used when none is named: Fashion-MNIST's training split for its test split, else none.</summary>
    public static string? DefaultRealTrain(string realTest) =>
        realTest.Equals("fashion-mnist:test", StringComparison.OrdinalIgnoreCase) ? "fashion-mnist" : null;

    /// <summary>Epochs of the augmented run (see <see cref="EpochRule"/>).</summary>
    public static int AugmentedEpochs(int epochs) => (epochs + 1) / 2;

    /// <summary>
    /// Reads the synthetic folder and the real sources, trains the three classifiers and scores them on the real test set.
    /// </summary>
    public static CasResult Run(string syntheticDirectory, string realTrainSource, string realTestSource, ClassifierTrainingOptions options, Device device,
        IProgress<CasProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        using var scope = torch.NewDisposeScope();
        progress?.Report(new CasProgress("read", 0, 3));
        var synthetic = CasImageSet.ReadSynthetic(syntheticDirectory);
        progress?.Report(new CasProgress("read", 1, 3));
        var test = CasImageSet.ReadReal(realTestSource, synthetic.Geometry);
        synthetic = synthetic.WithClassesOf(test.ClassNames, realTestSource);
        progress?.Report(new CasProgress("read", 2, 3));
        var real = CasImageSet.ReadReal(realTrainSource, synthetic.Geometry, synthetic.Count, options.Seed).WithClassesOf(test.ClassNames, realTestSource);
        if (real.Count < synthetic.Count)
            throw new ArgumentException($"{real.Description}: the real baseline needs as many real training images as synthetic ones ({synthetic.Count}); use a larger --real-train source or fewer synthetic images");
        progress?.Report(new CasProgress("read", 3, 3));

        CasRun Train(string name, CasImageSet set, int epochs)
        {
            using var runScope = torch.NewDisposeScope();
            var runOptions = options with { Epochs = epochs };
            var clock = Stopwatch.StartNew();
            using var model = ClassifierTrainer.Train(set.Images, set.Labels, test.ClassNames.Count, runOptions, device,
                new ProgressRelay<ClassifierTrainingProgress>(p => progress?.Report(new CasProgress(name, p.ImagesDone, p.ImagesTotal))), cancel);
            var seconds = clock.Elapsed.TotalSeconds;
            var report = ClassifierEvaluation.Evaluate(model, test.Images, test.Labels, test.ClassNames);
            return CasRun.From(name, set.Count, epochs, report, seconds);
        }

        var syntheticOnly = Train("synthetic", synthetic, options.Epochs);
        var realOnly = Train("real", real, options.Epochs);
        var union = new CasImageSet(torch.cat([real.Images, synthetic.Images], 0), [.. real.Labels, .. synthetic.Labels], null, test.ClassNames, "real + synthetic");
        var augmented = Train("real + synthetic", union, AugmentedEpochs(options.Epochs));
        return new CasResult(synthetic.Description, real.Description, test.Description, test.Count, test.ClassNames, synthetic.Geometry.ToString(), options, EpochRule,
            syntheticOnly, realOnly, augmented, syntheticOnly.Top1 / realOnly.Top1, device.ToString(), ToolVersion.Describe());
    }
}
