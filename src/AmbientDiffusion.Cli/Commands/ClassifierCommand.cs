using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient classifier train|eval`: the in-product classifier whose hidden layer is the MNIST-family feature space.</summary>
internal static class ClassifierCommand
{
    public static Command Create() => new("classifier", "Train and score the in-product image classifier (its hidden layer is the classifier:FILE feature space).")
    {
        CreateTrain(),
        CreateEval(),
    };

    private static Command CreateTrain()
    {
        var defaults = new ClassifierTrainingOptions();
        var input = new Argument<string>("prepared") { Description = "A labelled prepared dataset (from `ambient prepare`); its held-out split is scored." };
        var output = new Option<string>("--out", "-o") { Description = "The classifier checkpoint to write (.safetensors).", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per Adam step.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial weights and the shuffles.", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "CPU intra-op threads (default: libtorch's, one per core); 1 avoids barrier spinning on a busy machine." };
        var command = new Command("train", """
            Train the classifier on a labelled prepared dataset and print its held-out accuracy.

            Examples:
              ambient prepare fashion-mnist --heldout-source fashion-mnist:test -r 28 -o data/fmnist-full.safetensors
              ambient classifier train data/fmnist-full.safetensors -o fmnist-clf.safetensors
            """) { input, output, epochs, batchSize, lr, seed, device, threads };
        command.SetAction(result =>
        {
            var options = new ClassifierTrainingOptions(result.GetValue(epochs), result.GetValue(batchSize), result.GetValue(lr), result.GetValue(seed));
            options.Validate();
            var target = Device.Parse(result.GetValue(device)!);
            if (result.GetValue(threads) is { } threadCount)
                torch.set_num_threads(threadCount >= 1 ? threadCount : throw new ArgumentException($"--threads {threadCount}: expected at least 1"));
            var outputPath = result.GetValue(output)!;
            OutputPath.CheckFile(outputPath, "--out");
            var trained = ConsoleProgress.Run("train", report => PreparedClassifier.TrainAndSave(result.GetValue(input)!, outputPath, options, target,
                new ProgressRelay<ClassifierTrainingProgress>(p => report((int)p.ImagesDone, (int)p.ImagesTotal))));
            var imagesPerSecond = (double)options.Epochs * trained.TrainImages / trained.TrainSeconds;
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{outputPath}[/]: {trained.Parameters} parameters, {options.Epochs} epochs on {trained.TrainImages} images in {trained.TrainSeconds:F1} s ({imagesPerSecond:F0} img/s) on {target}");
            if (trained.HeldOut is null) AnsiConsole.MarkupLine("[yellow]no held-out images to score[/] (prepare with --heldout or --heldout-source)");
            else Print(trained.HeldOut, $"{trained.HeldOut.Count} held-out images");
            return CommandRunner.Success;
        });
        return command;
    }

    private static Command CreateEval()
    {
        var checkpoint = new Argument<string>("classifier") { Description = "A classifier checkpoint (from `ambient classifier train`)." };
        var data = new Argument<string>("data") { Description = "A labelled prepared dataset (its held-out split, else its training images) or a samples file with labels." };
        var train = new Option<bool>("--train") { Description = "Score a prepared dataset's training images instead of its held-out split." };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var command = new Command("eval", """
            Print a classifier's top-1 and per-class accuracy on labelled images.

            Examples:
              ambient classifier eval fmnist-clf.safetensors data/fmnist-full.safetensors
            """) { checkpoint, data, train, device };
        command.SetAction(result =>
        {
            using var classifier = ClassifierCheckpoint.Load(result.GetValue(checkpoint)!, Device.Parse(result.GetValue(device)!));
            using var scope = torch.NewDisposeScope();
            var labelled = LabelledImages.Read(result.GetValue(data)!, heldOut: !result.GetValue(train));
            if (labelled.ClassNames is { } names && !names.SequenceEqual(classifier.Info.ClassNames))
                throw new InvalidDataException($"{result.GetValue(data)}: classes ({string.Join(", ", names)}) differ from the classifier's ({string.Join(", ", classifier.Info.ClassNames)})");
            var report = ClassifierEvaluation.Evaluate(classifier.Model, labelled.Images, labelled.Labels, classifier.Info.ClassNames);
            Print(report, labelled.Description);
            return CommandRunner.Success;
        });
        return command;
    }

    private static void Print(ClassificationReport report, string what)
    {
        AnsiConsole.MarkupLineInterpolated($"top-1 accuracy on {what}: [bold]{report.Top1.ToString("F4", CultureInfo.InvariantCulture)}[/]");
        var table = new Table().AddColumns("class", "images", "accuracy");
        for (var c = 0; c < report.ClassNames.Count; c++)
            table.AddRow(Markup.Escape(report.ClassNames[c]), report.ClassCounts[c].ToString(CultureInfo.InvariantCulture),
                double.IsNaN(report.PerClassAccuracy[c]) ? "-" : report.PerClassAccuracy[c].ToString("F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }
}
