using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>What <see cref="PreparedClassifier.TrainAndSave"/> did: the model's size, the held-out report (null without
/// held-out images) and the training time.</summary>
public sealed record PreparedClassifierResult(long Parameters, ClassificationReport? HeldOut, double TrainSeconds, int TrainImages);

/// <summary>The classifier of a labelled prepared dataset: trained on its images, scored on its held-out split, saved.</summary>
public static class PreparedClassifier
{
    /// <summary>Trains on <paramref name="preparedPath"/>'s images and labels and writes the checkpoint to <paramref name="outputPath"/>.</summary>
    public static PreparedClassifierResult TrainAndSave(string preparedPath, string outputPath, ClassifierTrainingOptions options, Device device,
        IProgress<ClassifierTrainingProgress>? progress = null)
    {
        options.Validate();
        using var prepared = PreparedDataset.Open(preparedPath);
        if (prepared.Labels is null || prepared.ClassNames is null)
            throw new InvalidDataException($"{prepared.Path}: the prepared dataset has no class labels (prepare it from a labelled source: IDX with a labels file, class sub-folders, or --celeba-attributes)");
        using var scope = torch.NewDisposeScope();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var model = ClassifierTrainer.Train(prepared.Images(), prepared.Labels, prepared.ClassNames.Count, options, device, progress);
        var seconds = clock.Elapsed.TotalSeconds;
        var report = prepared.HeldOutCount > 0 ? ClassifierEvaluation.Evaluate(model, prepared.HeldOutImages()!, prepared.HeldOutLabels!, prepared.ClassNames) : null;
        ClassifierCheckpoint.Save(outputPath, model, new ClassifierInfo(prepared.ClassNames, model.Geometry, prepared.FileSha256(), report?.Top1, options, prepared.Count));
        return new PreparedClassifierResult(model.parameter_count(), report, seconds, prepared.Count);
    }
}
