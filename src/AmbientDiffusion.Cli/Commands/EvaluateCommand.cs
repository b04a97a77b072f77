using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Memorization;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient evaluate`: FD, KID, precision, recall, density and coverage of sample sets, each beside its floor.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var samples = new Option<string[]>("--samples") { Description = "A sample set: a samples file (uint8 'samples', from `ambient sample`) or a prepared dataset's images. Repeat for several seed sets; each is reported, with min and mean.", Required = true, AllowMultipleArgumentsPerToken = false };
        var reference = new Option<string>("--reference") { Description = "The real images: a prepared dataset (its images) or a samples file.", Required = true };
        var heldOut = new Option<bool>("--reference-heldout") { Description = "Use the reference dataset's held-out images instead of its training images." };
        var floorReference = new Option<string?>("--floor-reference") { Description = "A second real set for the floor (compared with the whole reference). Default: the floor compares two disjoint halves of the reference (the samples are always compared with the whole reference)." };
        var features = new Option<string>("--features") { Description = "Feature space: pixels, inception:FILE, dinov2:FILE, sscd:FILE, classifier:FILE or torchscript:FILE.", DefaultValueFactory = _ => FeatureSpec.Pixels.ToString() };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the reference split and the KID subsets." };
        var k = new Option<int>("--k") { Description = "Neighbours of the precision/recall/density/coverage balls.", DefaultValueFactory = _ => PrecisionRecallDensityCoverage.DefaultK };
        var kidSubsets = new Option<int>("--kid-subsets") { Description = "KID subsets.", DefaultValueFactory = _ => KernelInceptionDistance.DefaultSubsets };
        var kidSubsetSize = new Option<int>("--kid-subset-size") { Description = "Largest KID subset (smaller sets use their size).", DefaultValueFactory = _ => KernelInceptionDistance.DefaultMaxSubsetSize };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (metrics.json, evaluation.html).", Required = true };
        var overwrite = OutputTarget.OverwriteOption();
        var command = new Command("evaluate", """
            Measure sample quality in a feature space: Fréchet distance, KID, precision and recall (Kynkäänniemi et
            al. 2019), density and coverage (Naeem et al. 2020) of every sample set against the whole reference set
            (as EDM's fid.py, torch-fidelity and clean-fid compare), each beside its floor: the same metric between
            two disjoint real sets (by default the reference split into halves; --floor-reference: a second real
            set against the whole reference), the floor set as large as a sample set where the data allow. Both
            pairs' sizes are reported.

            Examples:
              ambient evaluate --samples runs/a/samples/samples.safetensors --reference data/celeba-64.safetensors -o runs/a/evaluation
              ambient evaluate --samples s0.safetensors --samples s1.safetensors --samples s2.safetensors --reference data/fmnist.safetensors --reference-heldout -o eval
            """) { samples, reference, heldOut, floorReference, features, device, seed, k, kidSubsets, kidSubsetSize, output, overwrite };
        command.SetAction(result =>
        {
            var directory = result.GetValue(output)!;
            using var destination = OutputTarget.Folder(directory, result.GetValue(overwrite));
            var options = new EvaluationOptions
            {
                SamplesPaths = result.GetValue(samples)!,
                ReferencePath = result.GetValue(reference)!,
                ReferenceHeldOut = result.GetValue(heldOut),
                FloorReferencePath = result.GetValue(floorReference),
                Features = FeatureSpec.Parse(result.GetValue(features)!),
                Device = result.GetValue(device)!,
                Seed = result.GetValue(seed),
                K = result.GetValue(k),
                KidSubsets = result.GetValue(kidSubsets),
                KidMaxSubsetSize = result.GetValue(kidSubsetSize),
            };
            var evaluation = ConsoleProgress.Stages(update =>
                QualityEvaluator.Run(options, new ProgressRelay<EvaluationProgress>(p => update(p.Stage, p.Done, p.Total))));
            MetricsReportWriter.Write(evaluation, destination.WritePath);
            destination.Commit();
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{directory}[/] ({evaluation.FeatureSpace}): FD {evaluation.Fd.Value:G4} (floor {evaluation.Fd.Floor:G4}), KID {evaluation.Kid.Value:G4} (floor {evaluation.Kid.Floor:G4}), precision {evaluation.Precision.Value:F3}, recall {evaluation.Recall.Value:F3}, density {evaluation.Density.Value:F3}, coverage {evaluation.Coverage.Value:F3}");
            AnsiConsole.MarkupLineInterpolated($"sizes:   {evaluation.Fd.Sizes}");
            return CommandRunner.Success;
        });
        return command;
    }
}
