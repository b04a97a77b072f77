using AmbientDiffusion.Classification;
using AmbientDiffusion.Config;
using AmbientDiffusion.Data;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The feature spaces of a run and the evaluation stage: the in-product classifier (configured, or trained once per
/// labelled prepared dataset and cached in runs/data) is the default space, pixels when there is none, then the
/// configured extras. Each space gets <c>report/evaluation/&lt;space&gt;/metrics.json</c> (samples against the held-out
/// images, with floors), and each non-pixel space enters the memorization analysis.
/// </summary>
public static class EvaluationStage
{
    /// <summary>Seed of the measuring instrument: the automatically trained classifier and the evaluation's draws (the
    /// floor's split of the held-out images, KID's subsets). Not the run's seed, so that runs that differ only in seed
    /// (a sweep's seeds, a loop's or EM's arms and rounds) are measured in one feature space against one floor, and
    /// their spread is the models' alone.</summary>
    public const ulong InstrumentSeed = 0;

    /// <summary>Images an automatically trained classifier sees at least (epochs × training images).</summary>
    public const int AutoClassifierImages = 60_000;

    /// <summary>The most epochs an automatically trained classifier gets (tiny datasets would otherwise take hundreds).</summary>
    public const int AutoClassifierMaxEpochs = 40;

    /// <summary>The spaces of <paramref name="config"/> given its classifier (null: none).</summary>
    public static IReadOnlyList<FeatureSpec> Spaces(ExperimentConfig config, string? classifier)
    {
        var spaces = new List<FeatureSpec> { classifier is null ? FeatureSpec.Pixels : new FeatureSpec(FeatureExtractorKind.Classifier, classifier) };
        foreach (var spec in config.Evaluation.FeatureSpecs())
            if (!spaces.Contains(spec)) spaces.Add(spec);
        return spaces;
    }

    /// <summary>The classifier of a run: the configured checkpoint, the cached one trained on <paramref name="preparedPath"/>
    /// (<c>auto</c>, labelled data only), or null.</summary>
    public static string? Classifier(ExperimentConfig config, DataCache cache, string? preparedPath, IProgress<(int Done, int Total)>? progress = null)
    {
        var setting = config.Evaluation.Classifier;
        if (string.IsNullOrWhiteSpace(setting) || !config.Evaluation.Enabled) return null;
        CheckClassifierSetting(config);
        if (!string.Equals(setting, "auto", StringComparison.Ordinal)) return setting;
        if (preparedPath is null) return null;
        int count;
        using (var prepared = PreparedDataset.Open(preparedPath))
        {
            if (prepared.Labels is null) return null;
            count = prepared.Count;
        }
        // Small training sets get more epochs, so that the evaluation network sees at least AutoClassifierImages images.
        var defaults = new ClassifierTrainingOptions(Seed: InstrumentSeed);
        var epochs = Math.Clamp((int)Math.Ceiling((double)AutoClassifierImages / count), defaults.Epochs, AutoClassifierMaxEpochs);
        return cache.Classifier(preparedPath, defaults with { Epochs = epochs }, Device.Parse(config.Device.Type), progress);
    }

    /// <summary>Throws unless <c>evaluation.classifier</c> is empty, <c>auto</c> or an existing file.</summary>
    public static void CheckClassifierSetting(ExperimentConfig config)
    {
        var setting = config.Evaluation.Classifier;
        if (string.IsNullOrWhiteSpace(setting) || string.Equals(setting, "auto", StringComparison.Ordinal) || File.Exists(setting)) return;
        throw new ConfigException($"evaluation.classifier = {setting}: no such file (a checkpoint from `ambient classifier train`, auto, or empty)", "evaluation.classifier");
    }

    /// <summary>Whether a prepared dataset with <paramref name="heldOutCount"/> held-out images gets evaluated: the
    /// floor splits them into two halves, each as large as the metrics need (fewer: no evaluation, as with none).</summary>
    public static bool Evaluates(int heldOutCount, ExperimentConfig config) =>
        heldOutCount >= QualityEvaluator.ReferenceRowsNeeded(config.Evaluation.K, splitFloor: true);

    /// <summary>The evaluation tables of the run's spaces that have metrics, as sections for report.html.</summary>
    public static IReadOnlyList<string> HtmlSections(RunDirectory run, IReadOnlyList<FeatureSpec> spaces) =>
        spaces.Select(s => MetricsReportWriter.Read(run.Evaluation(s.Name))).OfType<EvaluationResult>().Select(MetricsHtml.Fragment).ToList();

    /// <summary>Opens the non-pixel spaces as memorization spaces; dispose the result after the analysis.</summary>
    public static ExtractedSpaces OpenForMemorization(IReadOnlyList<FeatureSpec> spaces, Device device) =>
        new(spaces.Where(s => s.Kind != FeatureExtractorKind.Pixels).Select(s => FeatureExtractors.Create(s, device)).ToList());

    /// <summary>Evaluates the run's samples in each space against the prepared dataset's held-out images, unless up to date.</summary>
    public static bool Run(ExperimentConfig config, RunDirectory run, RunInputs inputs, IReadOnlyList<FeatureSpec> spaces, IProgress<ExperimentProgress>? progress = null)
    {
        if (!config.Evaluation.Enabled || inputs.Prepared is null || !File.Exists(run.SamplesFile)) return false;
        using (var prepared = PreparedDataset.Open(inputs.Prepared))
            if (!Evaluates(prepared.HeldOutCount, config)) return false;
        for (var i = 0; i < spaces.Count; i++)
        {
            var directory = run.Evaluation(spaces[i].Name);
            var json = Path.Combine(directory, MetricsReportWriter.JsonFile);
            if (File.Exists(json) && File.GetLastWriteTimeUtc(json) >= File.GetLastWriteTimeUtc(run.SamplesFile)) continue;
            progress?.Report(new ExperimentProgress($"evaluation: {spaces[i].Name}", i, spaces.Count));
            var result = QualityEvaluator.Run(new EvaluationOptions
            {
                SamplesPaths = [run.SamplesFile],
                ReferencePath = inputs.Prepared,
                ReferenceHeldOut = true,
                Features = spaces[i],
                Device = config.Device.Type,
                Seed = InstrumentSeed,
                K = config.Evaluation.K,
                KidSubsets = config.Evaluation.KidSubsets,
                KidMaxSubsetSize = config.Evaluation.KidSubsetSize,
            });
            MetricsReportWriter.Write(result, directory);
        }
        progress?.Report(new ExperimentProgress("evaluation", spaces.Count, spaces.Count));
        return true;
    }
}

/// <summary>Feature extractors opened for one memorization analysis, as its extracted spaces.</summary>
public sealed class ExtractedSpaces(IReadOnlyList<IFeatureExtractor> extractors) : IDisposable
{
    /// <summary>The spaces, each named after its extractor.</summary>
    public IReadOnlyList<ExtractedSpace> Spaces { get; } = extractors
        .Select(e => new ExtractedSpace(e.Name, $"top-1 cosine similarity of {e.Name} features", images => e.Extract(images))).ToList();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var extractor in extractors) extractor.Dispose();
    }
}
