using System.CommandLine;
using System.Globalization;
using AmbientDiffusion.Representation;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient represent`: a StableRep-style representation probe of a synthetic image set.</summary>
internal static class RepresentCommand
{
    public static Command Create()
    {
        var encoderDefaults = new ContrastiveOptions();
        var probeDefaults = new LinearProbeOptions();
        var defaults = new RepresentOptions();
        var synthetic = new Option<string>("--synthetic") { Description = "The synthetic set: a folder with synthetic.npz + manifest.json (from `ambient synthesize`), or any image folder with one sub-folder per class.", Required = true };
        var real = new Option<string>("--real") { Description = "Real labelled training images: fashion-mnist, an image folder with class sub-folders, or an IDX file with its labels. The real encoder trains on as many of them as there are synthetic images; the probe trains on --probe-images of them.", Required = true };
        var realTest = new Option<string?>("--real-test") { Description = "Real labelled test images. Default: fashion-mnist:test when --real is fashion-mnist; required otherwise." };
        var output = new Option<string>("--out", "-o") { Description = "Folder for represent.json and represent.html.", Required = true };
        var positives = new Option<string>("--positives") { Description = "What makes synthetic images positives: class (same label) or group (same generation group; needs 'groups' in synthetic.npz).", DefaultValueFactory = _ => "class" };
        var epochs = new Option<int>("--epochs") { Description = "Encoder epochs.", DefaultValueFactory = _ => encoderDefaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Encoder batch (rows).", DefaultValueFactory = _ => encoderDefaults.BatchSize };
        var perSet = new Option<int>("--per-set") { Description = "Images drawn together from one class or group.", DefaultValueFactory = _ => encoderDefaults.PositivesPerSet };
        var temperature = new Option<double>("--temperature") { Description = "Contrastive softmax temperature.", DefaultValueFactory = _ => encoderDefaults.Temperature };
        var probeImages = new Option<int>("--probe-images") { Description = "Real labelled images the linear probe trains on (every image when the source has fewer).", DefaultValueFactory = _ => defaults.ProbeTrainImages };
        var probeEpochs = new Option<int>("--probe-epochs") { Description = "Linear-probe epochs.", DefaultValueFactory = _ => probeDefaults.Epochs };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the real subsets, weights, batches, augmentations and probe.", DefaultValueFactory = _ => encoderDefaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var command = new Command("represent", $"""
            Representation probe (StableRep / GenRep): train a small conv encoder with the multi-positive contrastive loss on
            the synthetic images, the same encoder SimCLR-style on as many real images (two augmented views of each), and
            score both (and an untrained one) with a linear probe trained on real labels and tested on real test images.
            Writes represent.json and represent.html.
            Defaults: {encoderDefaults.Epochs} encoder epochs, batch {encoderDefaults.BatchSize}, {encoderDefaults.PositivesPerSet} per set, temperature {encoderDefaults.Temperature.ToString(CultureInfo.InvariantCulture)},
            probe on {defaults.ProbeTrainImages} images for {probeDefaults.Epochs} epochs (about 2 CPU-minutes for 10k 28x28 synthetic images; 8-9 minutes of wall time on a busy shared 2-core machine).

            Examples:
              ambient represent --synthetic runs/fmnist/synthetic --real fashion-mnist -o runs/fmnist/represent
              ambient represent --synthetic runs/fmnist/synthetic --real fashion-mnist --positives group -o represent-group
            """) { synthetic, real, realTest, output, positives, epochs, batchSize, perSet, temperature, probeImages, probeEpochs, seed, device };
        command.SetAction(result =>
        {
            var kind = result.GetValue(positives) switch
            {
                "class" => PositiveKind.Class,
                "group" => PositiveKind.Group,
                var other => throw new ArgumentException($"--positives {other}: expected class or group"),
            };
            var seedValue = result.GetValue(seed);
            var options = new RepresentOptions(kind,
                encoderDefaults with { Epochs = result.GetValue(epochs), BatchSize = result.GetValue(batchSize), PositivesPerSet = result.GetValue(perSet), Temperature = result.GetValue(temperature), Seed = seedValue },
                probeDefaults with { Epochs = result.GetValue(probeEpochs), Seed = seedValue },
                result.GetValue(probeImages));
            options.Validate();
            var realSource = result.GetValue(real)!;
            var test = result.GetValue(realTest) ?? RepresentationProbe.DefaultRealTest(realSource)
                ?? throw new ArgumentException($"--real-test is required: there is no default real test source for --real {realSource} (the default applies to fashion-mnist only)");
            var target = Device.Parse(result.GetValue(device)!);
            AmbientDiffusion.Common.OutputPath.CheckFolder(result.GetValue(output)!, "--out");
            var probe = ConsoleProgress.Stages(update => RepresentationProbe.Run(result.GetValue(synthetic)!, realSource, test, options, target,
                new AmbientDiffusion.Common.ProgressRelay<RepresentProgress>(p => update(p.Stage, p.Done, p.Total))));
            var outputPath = result.GetValue(output)!;
            RepresentationReportWriter.Write(probe, outputPath);
            var table = new Table().AddColumns("encoder", "positives", "train images", "probe top-1");
            foreach (var (_, run) in RepresentationReportWriter.Runs(probe))
                table.AddRow(run.Encoder, run.Positives, run.TrainImages.ToString(CultureInfo.InvariantCulture), run.Top1.ToString("F4", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"synthetic / real [bold]{probe.SyntheticOverReal.ToString("F4", CultureInfo.InvariantCulture)}[/]; wrote {Path.Combine(outputPath, RepresentationReportWriter.HtmlFile)}");
            return CommandRunner.Success;
        });
        return command;
    }
}
