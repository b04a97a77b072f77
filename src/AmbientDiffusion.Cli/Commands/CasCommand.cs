using System.CommandLine;
using System.Globalization;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient cas`: the Classification Accuracy Score of a synthetic image set.</summary>
internal static class CasCommand
{
    public static Command Create()
    {
        var defaults = new ClassifierTrainingOptions();
        var synthetic = new Option<string>("--synthetic") { Description = "The synthetic set: a folder with synthetic.npz + manifest.json (from `ambient synthesize`), or any image folder with one sub-folder per class.", Required = true };
        var realTest = new Option<string>("--real-test") { Description = "Real labelled test images: fashion-mnist:test, an image folder with class sub-folders, or an IDX file with its labels.", Required = true };
        var realTrain = new Option<string?>("--real-train") { Description = "Real labelled training images for the baselines (a seeded subset as large as the synthetic set). Default: fashion-mnist when --real-test is fashion-mnist:test; required otherwise." };
        var output = new Option<string>("--out", "-o") { Description = "Folder for cas.json, cas.html and the confusion-matrix pictures.", Required = true };
        var epochs = new Option<int>("--epochs") { Description = $"Passes over the N training images of the synthetic-only and real-only classifiers (the real + synthetic one makes half as many over 2N).", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per Adam step.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the real subset, the initial weights and the shuffles (the same for all three classifiers).", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var command = new Command("cas", $"""
            Classification Accuracy Score (Ravuri & Vinyals 2019): train the in-product classifier on the synthetic images only
            and report its top-1 on real test images, beside the same classifier trained on as many real images (the ratio
            CAS / real) and on real + synthetic images (naive augmentation). Writes cas.json, cas.html and confusion matrices.
            Defaults: {defaults.Epochs} epochs, batch {defaults.BatchSize}, learning rate {defaults.LearningRate.ToString(CultureInfo.InvariantCulture)}, seed {defaults.Seed}
            (about 1 CPU-minute for 10k 28x28 synthetic images; 3-4 minutes of wall time on a busy shared 2-core machine). Epochs: {ClassificationAccuracyScore.EpochRule}.
            Classes are matched by name between the synthetic and real sets; a mismatch is an error.

            Examples:
              ambient cas --synthetic runs/fmnist/synthetic --real-test fashion-mnist:test -o runs/fmnist/cas
              ambient cas --synthetic gen/ --real-train data/train --real-test data/test -o cas --epochs 10
            """) { synthetic, realTest, realTrain, output, epochs, batchSize, lr, seed, device };
        command.SetAction(result =>
        {
            var options = new ClassifierTrainingOptions(result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(lr), result.GetValue(seed));
            options.Validate();
            var test = result.GetValue(realTest)!;
            var train = result.GetValue(realTrain) ?? ClassificationAccuracyScore.DefaultRealTrain(test)
                ?? throw new ArgumentException($"--real-train is required: there is no default real training source for --real-test {test} (the default applies to fashion-mnist:test only)");
            var target = Device.Parse(result.GetValue(device)!);
            AmbientDiffusion.Common.OutputPath.CheckFolder(result.GetValue(output)!, "--out");
            var score = ConsoleProgress.Stages(update => ClassificationAccuracyScore.Run(result.GetValue(synthetic)!, train, test, options, target,
                new AmbientDiffusion.Common.ProgressRelay<CasProgress>(p => update(p.Stage, p.Done, p.Total))));
            var outputPath = result.GetValue(output)!;
            CasReportWriter.Write(score, outputPath);
            var table = new Table().AddColumns("trained on", "train images", "epochs", "top-1 on real test");
            foreach (var run in CasReportWriter.Runs(score))
                table.AddRow(Markup.Escape(run.TrainedOn), run.TrainImages.ToString(CultureInfo.InvariantCulture), run.Epochs.ToString(CultureInfo.InvariantCulture), run.Top1.ToString("F4", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"CAS [bold]{score.SyntheticOnly.Top1.ToString("F4", CultureInfo.InvariantCulture)}[/], CAS / real [bold]{score.CasOverReal.ToString("F4", CultureInfo.InvariantCulture)}[/] on {score.TestImages} real test images; wrote {Path.Combine(outputPath, CasReportWriter.HtmlFile)}");
            return CommandRunner.Success;
        });
        return command;
    }
}
