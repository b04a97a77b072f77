using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Data;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// The checks of a run that need files, made before any work: the run directory's place, the files the evaluation
/// and the memorization analysis will read, and the sizes they need. The config itself was validated when it was
/// loaded; what fails here would otherwise fail after training, or after sampling.
/// </summary>
public static class RunPreflight
{
    /// <summary>Checks that need no data: the run directory's place and the evaluation and feature files named in the config.</summary>
    public static void BeforeData(ExperimentConfig config, string runDirectory)
    {
        OutputPath.CheckFolder(runDirectory, "run directory");
        CheckEvaluationFiles(config);
        var memorization = config.Memorization;
        if (!memorization.Enabled) return;
        foreach (var (key, path) in new[] { ("features_samples", memorization.FeaturesSamples), ("features_train", memorization.FeaturesTrain), ("features_heldout", memorization.FeaturesHeldout) })
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
                throw new ConfigException($"memorization.{key} = {path}: no such file (expected a safetensors file with float32 [N, D] '{MemorizationInputs.FeaturesKey}')", $"memorization.{key}");
    }

    /// <summary>Checks that need the prepared (clean) dataset, before training: the samples are enough for the evaluation
    /// its held-out images make run, and external feature files have one row per image they describe.</summary>
    public static void BeforeTraining(ExperimentConfig config, string? prepared)
    {
        if (prepared is null) return;
        int count, heldOut;
        using (var data = PreparedDataset.Open(prepared)) (count, heldOut) = (data.Count, data.HeldOutCount);
        CheckEvaluationSizes(config, prepared, heldOut);
        var memorization = config.Memorization;
        if (!memorization.Enabled) return;
        var needed = MemorizationAnalyzer.MinimumRows;
        if (count < needed || heldOut == 1)
            throw new InvalidDataException($"{prepared}: {(count < needed ? $"{count} training image" : "1 held-out image")}, expected at least {needed} for the memorization analysis (d2 and its Fréchet distances; 0 held-out images are fine), or set memorization.enabled: false");
        if (memorization.Membership.Enabled && heldOut < Membership.MembershipInputs.MinimumNonMembers)
            throw new InvalidDataException($"{prepared}: {heldOut} held-out image(s), expected at least {Membership.MembershipInputs.MinimumNonMembers} for memorization.membership (the non-members of the attack are the held-out images); prepare a held-out split or set memorization.membership.enabled: false");
        if (string.IsNullOrWhiteSpace(memorization.FeaturesTrain)) return;
        var width = MemorizationInputs.CheckFeatureFile(memorization.FeaturesTrain, count, $"the training set {prepared}")[1];
        var samples = config.Sampling.SeedList().Count;
        if (samples > 0) MemorizationInputs.CheckFeatureFile(memorization.FeaturesSamples, samples, $"the samples (sampling.seeds = {config.Sampling.Seeds})", width);
        if (!string.IsNullOrWhiteSpace(memorization.FeaturesHeldout))
            MemorizationInputs.CheckFeatureFile(memorization.FeaturesHeldout, heldOut, $"the held-out images of {prepared}", width);
    }

    /// <summary>The evaluation's classifier and feature extractor files exist.</summary>
    public static void CheckEvaluationFiles(ExperimentConfig config)
    {
        if (!config.Evaluation.Enabled) return;
        EvaluationStage.CheckClassifierSetting(config);
        foreach (var spec in config.Evaluation.FeatureSpecs())
            if (spec.Kind != FeatureExtractorKind.Pixels && spec.File is { } file && !File.Exists(file))
                throw new ConfigException($"evaluation.features: {spec}: no such file {file} (a TorchScript feature extractor or a classifier checkpoint)", "evaluation.features");
    }

    /// <summary>When the held-out images of <paramref name="prepared"/> make the evaluation run, the samples must be enough for it.</summary>
    public static void CheckEvaluationSizes(ExperimentConfig config, string prepared, int heldOut)
    {
        if (config.Evaluation.Enabled && EvaluationStage.Evaluates(heldOut, config)) config.CheckSamplesForEvaluation(prepared);
    }
}
