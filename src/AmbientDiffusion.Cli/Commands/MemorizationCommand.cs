using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Membership;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient memorization`: nearest training images of generated samples, beside baselines, as a report directory.</summary>
internal static class MemorizationCommand
{
    /// <summary>Other commands' outputs inside a run's report/, kept when the report is replaced.</summary>
    private static readonly string[] ReportNested = [RunDirectory.EvaluationFolder, RunDirectory.MembershipFolder];

    public static Command Create()
    {
        var defaults = new MemorizationSettings();
        var run = new Argument<string?>("run") { Description = "A run directory (from `ambient train`): its samples, its clean training set and its memorization settings; the report goes to <run>/report.", Arity = ArgumentArity.ZeroOrOne };
        var samples = new Option<string?>("--samples") { Description = "Generated samples: a safetensors file with uint8 [N, C, H, W] 'samples' (from `ambient sample`), or a prepared dataset's 'images'." };
        var train = new Option<string?>("--train") { Description = "The clean training set: the prepared dataset the corrupted training data came from." };
        var heldOut = new Option<string?>("--heldout") { Description = "Held-out images for the held-out->train baseline: a samples file or a prepared dataset (its 'images'). Default: the training file's heldout_images, when present." };
        var featuresSamples = new Option<string?>("--features-samples") { Description = "External features of the samples: safetensors with float32 [N, D] 'features' (e.g. DINOv2), one row per sample." };
        var featuresTrain = new Option<string?>("--features-train") { Description = "External features of the training images (same extractor)." };
        var featuresHeldOut = new Option<string?>("--features-heldout") { Description = "External features of the held-out images." };
        var downsample = new Option<int>("--downsample") { Description = "Side of the downsampled (area-averaged) space; 0 leaves it out.", DefaultValueFactory = _ => defaults.Downsample };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => defaults.Device };
        var baseline = new Option<int>("--baseline-queries") { Description = "At most this many queries per baseline (a seeded subset beyond); 0 runs no baselines.", DefaultValueFactory = _ => defaults.BaselineQueries };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the baseline subsets.", DefaultValueFactory = _ => defaults.BaselineSeed };
        var queryChunk = new Option<int>("--query-chunk") { Description = "Queries per k-NN block (memory: query chunk x reference chunk floats).", DefaultValueFactory = _ => defaults.Knn.QueryChunk };
        var referenceChunk = new Option<int>("--reference-chunk") { Description = "Training images per k-NN block.", DefaultValueFactory = _ => defaults.Knn.ReferenceChunk };
        var worst = new Option<int>("--worst") { Description = "Most memorized samples shown in report.html and neighbors.png.", DefaultValueFactory = _ => defaults.WorstCount };
        var features = new Option<string[]>("--features") { Description = "Feature spaces computed from the images and compared by top-1 cosine (repeatable): classifier:FILE, inception:FILE, dinov2:FILE, sscd:FILE, torchscript:FILE. Default: a run config's evaluation.features, and its evaluation.classifier when that names a file.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out", "-o") { Description = "Report directory (report.json, report.html, neighbors.png, quality.json); default <run>/report (<run>/report/membership with --only-membership, <run>/over-time with --over-time)." };
        var membership = new Option<bool>("--membership") { Description = "Also run the membership-inference attacks (loss, corruption-aware loss, PIA) against the checkpoint: membership.json, membership.csv and ROC charts in the report directory." };
        var onlyMembership = new Option<bool>("--only-membership") { Description = "Run only the membership-inference attacks (no samples needed); default output <run>/report/membership." };
        var overTime = new Option<bool>("--over-time") { Description = "Analyse every checkpoint of the run: sample it, measure copies and membership, one folder per checkpoint (resumable: finished ones are kept), and chart them against kimg." };
        var overTimeSamples = new Option<int>("--over-time-samples") { Description = "Samples drawn per checkpoint with --over-time (the run's first seeds); 0 takes the run's sampling.seeds.", DefaultValueFactory = _ => OverTimeSettings.DefaultSamples };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "The checkpoint the membership attacks target; default the run's newest." };
        var corrupted = new Option<string?>("--corrupted") { Description = "The corrupted dataset the model was trained on (its masks, for the corruption-aware attack); default the run's." };
        var maxImages = new Option<int>("--membership-max-images") { Description = "Members and non-members scored at most (a seeded subset beyond).", DefaultValueFactory = _ => defaults.Membership.MaxImages };
        var resamples = new Option<int>("--bootstrap-resamples") { Description = "Bootstrap resamples of every interval; 0 reports none.", DefaultValueFactory = _ => defaults.Bootstrap.Resamples };
        var overwrite = OutputTarget.OverwriteOption();
        var command = new Command("memorization", """
            Measure memorization: find the exact nearest training images of generated samples in several feature
            spaces (pixels, flip-invariant pixels, downsampled pixels, mean-centred cosine, optional external features)
            and report d1, d2, the memorization ratio d1/d2 < 1/3, Carlini et al.'s extraction test and cosine
            fractions, beside train->train and held-out->train baselines.

            Give a run directory, or explicit files (--samples, --train, --out); options given explicitly override
            the run's memorization settings.

            Examples:
              ambient memorization runs/quickstart
              ambient memorization --samples runs/ambient-p0.8/samples/samples.safetensors --train data/celeba-300.safetensors -o runs/ambient-p0.8/report
              ambient memorization --samples samples.safetensors --train data/fmnist-2k.safetensors --heldout data/fmnist-test.safetensors --device cpu -o report
              ambient memorization --samples s.safetensors --train t.safetensors --features-samples s-dino.safetensors --features-train t-dino.safetensors -o report
              ambient memorization --samples s.safetensors --train t.safetensors --features classifier:clf.safetensors --features sscd:sscd_disc_mixup.torchscript.pt -o report
              ambient memorization runs/fmnist-16-p0.8 --membership --overwrite
              ambient memorization runs/fmnist-16-p0.8 --only-membership
              ambient memorization --only-membership --checkpoint runs/x/checkpoints/checkpoint-000001000.safetensors --train data/fmnist-16.safetensors -o mia
              ambient memorization runs/fmnist-16-p0 --over-time --over-time-samples 128
            """) { run, samples, train, heldOut, featuresSamples, featuresTrain, featuresHeldOut, features, downsample, device, baseline, seed, queryChunk, referenceChunk, worst, output, overwrite,
                membership, onlyMembership, overTime, overTimeSamples, checkpoint, corrupted, maxImages, resamples };
        command.SetAction(result =>
        {
            // A run directory supplies its files and settings; options the user typed override them, explicit files replace them.
            var directory = result.GetValue(run) is { } runPath ? new RunDirectory(runPath) : null;
            if (directory is not null && !File.Exists(directory.Config)) throw new FileNotFoundException($"{directory.Path}: no config.yaml; is it a run directory made by `ambient train`?");
            var config = directory is null ? null : ConfigLoader.Parse(File.ReadAllText(directory.Config), directory.Config);
            var inputs = directory?.ReadInputs();
            if (directory is not null) CommandRunner.LogDirectory = directory.Path;
            var configured = config is null ? defaults : config.Memorization.ToSettings(config.Device.Type, config.Seed);
            T Pick<T>(Option<T> option, T fallback) => result.GetResult(option) is { Implicit: false } ? result.GetValue(option)! : fallback;
            configured = configured with
            {
                Device = Pick(device, configured.Device),
                Bootstrap = configured.Bootstrap with { Resamples = Pick(resamples, configured.Bootstrap.Resamples) },
                Membership = configured.Membership with { MaxImages = Pick(maxImages, configured.Membership.MaxImages) },
            };
            configured.Validate();
            if (new[] { result.GetValue(membership), result.GetValue(onlyMembership), result.GetValue(overTime) }.Count(b => b) > 1)
                throw new ArgumentException("--membership, --only-membership and --over-time exclude one another: pick one");
            if (result.GetValue(overTime))
            {
                if (directory is null || config is null) throw new ArgumentException("--over-time needs a run directory: ambient memorization runs/<name> --over-time");
                var samplesPerCheckpoint = result.GetValue(overTimeSamples);
                if (samplesPerCheckpoint < 0) throw new ArgumentException($"--over-time-samples = {samplesPerCheckpoint}: expected 0 (the run's sampling.seeds) or a positive count");
                var folder = result.GetValue(output) ?? directory.OverTime;
                var overTimeSettings = new OverTimeSettings { Samples = samplesPerCheckpoint, Memorization = configured };
                var summary = ConsoleProgress.Run("over time", update => OverTimeAnalysis.Run(directory, config, folder, overTimeSettings,
                    new ProgressRelay<ExperimentProgress>(p => update((int)p.Done, (int)p.Total))));
                AnsiConsole.MarkupLineInterpolated($"wrote [bold]{folder}[/]: {summary.Points.Count} checkpoints ({summary.Analysed} analysed now, {summary.Points.Count - summary.Analysed} kept)");
                return CommandRunner.Success;
            }
            MembershipOptions MembershipOptionsFor(string outputDirectory) => new()
            {
                CheckpointPath = result.GetValue(checkpoint) ?? (directory is null ? null : AmbientDiffusion.Training.Checkpoint.Latest(directory.Checkpoints))
                    ?? throw new ArgumentException(directory is null ? "--checkpoint is required for the membership attacks without a run directory" : $"{directory.Checkpoints}: no checkpoint to attack"),
                TrainPath = result.GetValue(train) ?? inputs?.Prepared
                    ?? throw new ArgumentException(directory is null ? "--train is required without a run directory" : $"{directory.Path} was trained from a corrupted file alone; name its clean training set with --train"),
                HeldOutPath = result.GetValue(heldOut),
                CorruptedPath = result.GetValue(corrupted) ?? inputs?.Corrupted,
                OutputDirectory = outputDirectory,
                Device = configured.Device,
                Settings = configured.Membership,
                Bootstrap = configured.Bootstrap,
            };
            if (result.GetValue(onlyMembership))
            {
                var folder = result.GetValue(output) ?? (directory is null ? throw new ArgumentException("--out is required without a run directory") : System.IO.Path.Combine(directory.Report, RunDirectory.MembershipFolder));
                var attackOptions = MembershipOptionsFor(folder);
                MembershipInputs.Check(attackOptions);
                using var target = OutputTarget.Folder(folder, result.GetValue(overwrite));
                var alone = ConsoleProgress.Run("membership", update => MembershipAnalyzer.Run(attackOptions with { OutputDirectory = target.WritePath },
                    new ProgressRelay<MembershipProgress>(p => update(p.Done, p.Total))));
                target.Commit();
                PrintMembership(target.Path, alone);
                return CommandRunner.Success;
            }
            var options = new MemorizationOptions
            {
                SamplesPath = result.GetValue(samples) ?? directory?.SamplesFile
                    ?? throw new ArgumentException("--samples is required without a run directory (or give a run directory: ambient memorization runs/<name>)"),
                TrainPath = result.GetValue(train) ?? inputs?.Prepared
                    ?? throw new ArgumentException(directory is null ? "--train is required without a run directory" : $"{directory.Path} was trained from a corrupted file alone; name its clean training set with --train"),
                HeldOutPath = result.GetValue(heldOut),
                FeaturesSamplesPath = result.GetValue(featuresSamples) ?? NullIfEmpty(config?.Memorization.FeaturesSamples),
                FeaturesTrainPath = result.GetValue(featuresTrain) ?? NullIfEmpty(config?.Memorization.FeaturesTrain),
                FeaturesHeldOutPath = result.GetValue(featuresHeldOut) ?? NullIfEmpty(config?.Memorization.FeaturesHeldout),
                OutputDirectory = result.GetValue(output) ?? directory?.Report ?? throw new ArgumentException("--out is required without a run directory"),
                Settings = configured with
                {
                    Device = Pick(device, configured.Device),
                    Downsample = Pick(downsample, configured.Downsample),
                    BaselineQueries = Pick(baseline, configured.BaselineQueries),
                    BaselineSeed = Pick(seed, configured.BaselineSeed),
                    WorstCount = Pick(worst, configured.WorstCount),
                    Knn = configured.Knn with { QueryChunk = Pick(queryChunk, configured.Knn.QueryChunk), ReferenceChunk = Pick(referenceChunk, configured.Knn.ReferenceChunk) },
                },
            };
            options.Settings.Validate();
            var attack = result.GetValue(membership) ? MembershipOptionsFor(options.OutputDirectory) : null;
            if (attack is not null) MembershipInputs.Check(attack); // before the copy analysis, so a missing held-out set costs nothing
            // A run's report/ also holds evaluate's evaluation/ and the attacks-alone membership/: replacing the report keeps them.
            using var destination = OutputTarget.Folder(options.OutputDirectory, result.GetValue(overwrite), ReportNested);
            var typed = (result.GetValue(features) ?? []).Select(FeatureSpec.Parse).ToList();
            var spaces = typed.Count > 0 || config is null ? typed
                : EvaluationStage.Spaces(config, File.Exists(config.Evaluation.Classifier) ? config.Evaluation.Classifier : null).ToList();
            using var extracted = EvaluationStage.OpenForMemorization(spaces, MemorizationAnalyzer.ResolveDevice(options.Settings.Device));
            options = options with { Extracted = extracted.Spaces, OutputDirectory = destination.WritePath };
            var report = ConsoleProgress.Run("memorization", update =>
                MemorizationAnalyzer.Run(options, new ProgressRelay<MemorizationProgress>(p => update(p.Done, p.Total))));
            var attacked = attack is null ? null : ConsoleProgress.Run("membership", update => MembershipAnalyzer.Run(attack with { OutputDirectory = destination.WritePath },
                new ProgressRelay<MembershipProgress>(p => update(p.Done, p.Total))));
            destination.Commit();
            var pixels = report.Space("pixels")!.Set(MemorizationAnalyzer.SamplesSet)!;
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{destination.Path}[/]: {pixels.Queries} samples; pixel d1 median {pixels.D1!.At(50):G4}, d1/d2 < 1/3: {pixels.FracRatioBelowThird:P1}, Carlini: {pixels.FracCarlini:P1}");
            if (attacked is not null) PrintMembership(destination.Path, attacked);
            return CommandRunner.Success;
        });
        return command;
    }

    private static void PrintMembership(string folder, MembershipReport report)
    {
        foreach (var a in report.Attacks)
            AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture,
                $"{folder}: {a.Name}: AUC {a.Auc:F3}{(a.AucInterval is { } i ? $" [{i.Lo:F3}, {i.Hi:F3}]" : "")}, TPR@1%FPR {a.TprAt1PctFpr:F3}, TPR@0.1%FPR {a.TprAt01PctFpr:F3} ({a.Members} members, {a.NonMembers} non-members)");
    }

    private static string? NullIfEmpty(string? path) => string.IsNullOrWhiteSpace(path) ? null : path;
}
