using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Rounds;

/// <summary>
/// The ordinary run inside a round's run directory, shared by the self-consuming loop's generations and EM's rounds:
/// training on the round's corrupted-format file through the ordinary composition (resuming from its newest checkpoint;
/// a warm-started round begins from the previous round's EMA weights), its samples with grid.png, the evaluation
/// against the held-out real images and the memorization analysis against the round's clean training images (studies
/// only: training never reads them).
/// </summary>
public static class RoundTraining
{
    /// <summary>Runs the round's stages, each skipped when its output is there; false when cancelled.
    /// <paramref name="study"/> is the loop's or EM's own config, whose data the evaluation space is learnt from.
    /// In a data-parallel job (<paramref name="parallel"/>) every rank trains, as <c>ambient train</c>'s ranks do, and
    /// rank 0 alone writes the inputs and runs the study; the others return true once training is complete.</summary>
    public static bool Run(ExperimentConfig config, RunDirectory run, RunInputs inputs, RunDirectory? warmStartFrom, ExperimentConfig study, DataCache cache,
        string prepared, IProgress<ExperimentProgress>? progress, CancellationToken cancel, DataParallel? parallel = null)
    {
        parallel ??= DataParallel.Single;
        if (parallel.IsPrimary) run.WriteInputs(inputs);
        using (var trainer = ExperimentComposition.ResumeTrainer(config, run.Path, inputs.Corrupted, parallel))
        {
            if (warmStartFrom is not null && trainer.Step == 0 && trainer.ImagesSeen == 0) WarmStart.From(trainer, warmStartFrom);
            if (!trainer.IsComplete)
            {
                var total = config.Training.DurationKimg * 1000;
                trainer.Run(progress is null ? null : new ProgressRelay<TrainingProgress>(p => progress.Report(new ExperimentProgress("train", p.Kimg * 1000, total))), cancel);
            }
            if (cancel.IsCancellationRequested || !trainer.IsComplete) return false;
        }
        if (!parallel.IsPrimary) return true;

        ExperimentRunner.Sample(config, run, progress, cancel);
        if (cancel.IsCancellationRequested) return false;
        // The evaluation space is learnt from the real images, never from a round's training set (with the instrument's
        // seed, so that every arm, seed and round is measured in the same space; trained once per runs folder).
        var classifier = EvaluationStage.Classifier(study, cache, prepared, progress is null ? null : new ProgressRelay<(int Done, int Total)>(p => progress.Report(new ExperimentProgress("classifier", p.Done, p.Total))));
        var spaces = EvaluationStage.Spaces(config, classifier);
        EvaluationStage.Run(config, run, inputs, spaces, progress);
        ExperimentRunner.Analyze(config, run, inputs, spaces, progress);
        return true;
    }
}
