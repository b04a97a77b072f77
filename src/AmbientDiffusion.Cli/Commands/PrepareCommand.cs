using System.CommandLine;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient prepare`: a folder, CelebA or an IDX file → a prepared (clean) dataset file.</summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "A folder of images, a CelebA folder (img_align_celeba/ + list_eval_partition.txt), an IDX file (.gz or raw), or fashion-mnist[:train|:test]." };
        var output = new Option<string>("--out", "-o") { Description = "The prepared dataset file to write (.safetensors).", Required = true };
        var format = new Option<string>("--format") { Description = "auto, folder, celeba or idx.", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong("auto", "folder", "celeba", "idx");
        var resolution = new Option<int>("--resolution", "-r") { Description = "Side length of the square output images.", Required = true };
        var channels = new Option<int?>("--channels") { Description = "1 (grayscale) or 3 (RGB); default 1 for IDX, 3 otherwise." };
        var crop = new Option<int?>("--crop") { Description = "Side of the centred square cut before resizing (default: the largest)." };
        var count = new Option<int?>("--count", "-n") { Description = "Training images to keep, a seeded random subset (default: all not held out)." };
        var heldOut = new Option<int>("--heldout") { Description = "Images kept apart for memorization baselines (disjoint from the training images)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the subset selection." };
        var partition = new Option<string?>("--partition") { Description = "CelebA split: train, validation or test (default: all)." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip undecodable or too-small images and report them, instead of stopping." };
        var celebaAttributes = new Option<string?>("--celeba-attributes") { Description = "CelebA attributes that label each image, comma-separated (e.g. Male or Male,Smiling: 2^k classes), from list_attr_celeba.txt." };
        var heldOutSource = new Option<string?>("--heldout-source") { Description = "Draw the held-out images from this source instead (e.g. fashion-mnist:test); --heldout then defaults to all of it." };
        var command = new Command("prepare", """
            Read source images, centre-crop and area-resize them, and write a prepared dataset file.

            Examples:
              ambient prepare fashion-mnist -r 32 -n 2000 --heldout 1000 -o data/fmnist-2k.safetensors
              ambient prepare ~/data/celeba --partition train -r 64 --crop 140 -n 3000 -o data/celeba64-3k.safetensors
              ambient prepare ~/photos --skip-bad -r 64 -o data/photos64.safetensors
              ambient prepare fashion-mnist --heldout-source fashion-mnist:test -r 28 -o data/fmnist-full.safetensors
              ambient prepare ~/data/celeba --celeba-attributes Male,Smiling -r 64 --crop 140 -n 3000 -o data/celeba64-ms.safetensors
            """) { source, output, format, resolution, channels, crop, count, heldOut, seed, partition, skipBad, celebaAttributes, heldOutSource };
        command.SetAction(result =>
        {
            var imageSource = ImageSources.Open(result.GetValue(source)!, result.GetValue(format)!, result.GetValue(partition));
            var heldOutImages = result.GetValue(heldOutSource) is { } heldOutName ? ImageSources.Open(heldOutName) : null;
            var options = new PrepareOptions(
                result.GetValue(resolution),
                result.GetValue(channels) ?? (imageSource is IdxSource ? 1 : 3),
                result.GetValue(crop),
                result.GetValue(count),
                result.GetResult(heldOut) is null && heldOutImages is not null ? heldOutImages.Count : result.GetValue(heldOut),
                result.GetValue(seed),
                result.GetValue(skipBad),
                result.GetValue(celebaAttributes) is { } attributes ? CelebAAttributes.Parse(attributes) : null);
            var outputPath = result.GetValue(output)!;
            Common.OutputPath.CheckFile(outputPath, "--out");
            var prepared = ConsoleProgress.Run("prepare", report =>
                DatasetPreparer.Run(imageSource, heldOutImages, outputPath, options, new ProgressRelay<PrepareProgress>(p => report(p.Done, p.Total))));
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{prepared.Path}[/]: {prepared.Count} training + {prepared.HeldOut} held-out images, {prepared.Channels}x{prepared.Resolution}x{prepared.Resolution}{(options.LabelsOf(imageSource) is { } labels ? $", {labels.ClassNames.Count} classes" : "")}");
            if (prepared.Skipped.Count > 0)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]skipped {prepared.Skipped.Count} bad files:[/]");
                foreach (var group in prepared.Skipped.GroupBy(s => Reason(s.Reason)))
                    AnsiConsole.MarkupLineInterpolated($"  {group.Count()} x {group.Key} (e.g. {group.First().Name})");
            }
            return CommandRunner.Success;
        });
        return command;
    }

    // "file: reason" → "reason", so that the summary groups files by what went wrong.
    private static string Reason(string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? message[(colon + 2)..] : message;
    }
}
