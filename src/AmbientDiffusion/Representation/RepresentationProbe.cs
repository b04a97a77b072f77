using AmbientDiffusion.Sampling;
using System.Diagnostics;
using AmbientDiffusion.Classification;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Representation;

/// <summary>What the representation probe compares, besides its inputs.</summary>
/// <param name="Positives">What makes synthetic images positives: <see cref="PositiveKind.Class"/> or <see cref="PositiveKind.Group"/>.</param>
/// <param name="Encoder">The contrastive training of both encoders.</param>
/// <param name="Probe">The linear probe's training.</param>
/// <param name="ProbeTrainImages">Real labelled images the probe trains on (a seeded subset; every image when the source has fewer).</param>
public sealed record RepresentOptions(PositiveKind Positives = PositiveKind.Class, ContrastiveOptions? Encoder = null, LinearProbeOptions? Probe = null, int ProbeTrainImages = 10000)
{
    /// <summary>The encoder settings, defaults when none are given.</summary>
    public ContrastiveOptions EncoderOptions => Encoder ?? new ContrastiveOptions();

    /// <summary>The probe settings, defaults when none are given.</summary>
    public LinearProbeOptions ProbeOptions => Probe ?? new LinearProbeOptions();

    /// <summary>Checks every value, naming the option that is wrong.</summary>
    public void Validate()
    {
        if (Positives is not (PositiveKind.Class or PositiveKind.Group)) throw new ArgumentException($"positives = {Positives}: expected class or group");
        if (ProbeTrainImages < 1) throw new ArgumentException($"probe training images = {ProbeTrainImages}: expected at least 1");
        EncoderOptions.Validate();
        ProbeOptions.Validate();
    }
}

/// <summary>One encoder of the comparison and its linear-probe score on the real test set.</summary>
/// <param name="Encoder">"synthetic", "real" or "untrained".</param>
/// <param name="Positives">"class", "group", "instance" (two views of one image) or "none".</param>
/// <param name="TrainImages">Images it trained on (0 untrained).</param>
/// <param name="EpochLosses">Mean contrastive loss of each epoch.</param>
/// <param name="Top1">Linear-probe top-1 on the real test set.</param>
/// <param name="PerClassAccuracy">Linear-probe accuracy within each true class (null without test images).</param>
/// <param name="TrainSeconds">Wall time of the encoder's training.</param>
public sealed record RepresentRun(string Encoder, string Positives, int TrainImages, double[] EpochLosses, double Top1, double?[] PerClassAccuracy, double TrainSeconds);

/// <summary>What <see cref="RepresentationProbe.Run"/> measured (every number of represent.json).</summary>
public sealed record RepresentResult(string Synthetic, string Real, string RealTest, int ProbeTrainImages, int TestImages, IReadOnlyList<string> ClassNames, string Geometry,
    long EncoderParameters, ContrastiveOptions Encoder, LinearProbeOptions Probe, RepresentRun SyntheticEncoder, RepresentRun RealEncoder, RepresentRun Untrained,
    double SyntheticOverReal, string Device, string Tool);

/// <summary>Progress of the probe: the stage and units done of its total.</summary>
public sealed record RepresentProgress(string Stage, long Done, long Total);

/// <summary>
/// A StableRep / GenRep style representation probe: a small encoder trained with the multi-positive contrastive loss on
/// synthetic images (positives: same class, or same generation group), the same encoder trained SimCLR-style on as many
/// real images (positives: two augmented views of one image), and an untrained one as the floor; each is scored by a
/// linear probe on frozen, normalised features, trained on real labelled images and tested on the real test set.
/// </summary>
public static class RepresentationProbe
{
    /// <summary>The real test source used when none is named: Fashion-MNIST's test split for its training split, else none.</summary>
    public static string? DefaultRealTest(string real) =>
        real.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase) || real.Equals("fashion-mnist:train", StringComparison.OrdinalIgnoreCase) ? "fashion-mnist:test" : null;

    /// <summary>Reads the sets, trains both encoders and probes all three.</summary>
    public static RepresentResult Run(string syntheticDirectory, string realSource, string realTestSource, RepresentOptions options, Device device,
        IProgress<RepresentProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var encoderOptions = options.EncoderOptions;
        using var scope = torch.NewDisposeScope();
        progress?.Report(new RepresentProgress("read", 0, 4));
        var synthetic = CasImageSet.ReadSynthetic(syntheticDirectory);
        if (options.Positives == PositiveKind.Group && synthetic.Groups is null)
            throw new InvalidDataException($"{synthetic.Description}: --positives group needs a 'groups' array in {Path.Combine(syntheticDirectory, SyntheticManifest.NumpyFile)} (images generated from nearby starting noises share a group id); use --positives class");
        progress?.Report(new RepresentProgress("read", 1, 4));
        var test = CasImageSet.ReadReal(realTestSource, synthetic.Geometry);
        synthetic = synthetic.WithClassesOf(test.ClassNames, realTestSource);
        progress?.Report(new RepresentProgress("read", 2, 4));
        var real = CasImageSet.ReadReal(realSource, synthetic.Geometry, synthetic.Count, encoderOptions.Seed).WithClassesOf(test.ClassNames, realTestSource);
        progress?.Report(new RepresentProgress("read", 3, 4));
        var probeSet = CasImageSet.ReadReal(realSource, synthetic.Geometry, options.ProbeTrainImages, encoderOptions.Seed).WithClassesOf(test.ClassNames, realTestSource);
        progress?.Report(new RepresentProgress("read", 4, 4));

        RepresentRun Probe(string name, string positives, ContrastiveEncoder encoder, int trainImages, double[] losses, double seconds)
        {
            using var probeScope = torch.NewDisposeScope();
            var report = LinearProbe.TrainAndScore(ContrastiveTrainer.NormalisedFeatures(encoder, probeSet.Images), probeSet.Labels,
                ContrastiveTrainer.NormalisedFeatures(encoder, test.Images), test.Labels, test.ClassNames, options.ProbeOptions);
            return new RepresentRun(name, positives, trainImages, losses, report.Top1, report.PerClassAccuracy.Select(a => double.IsNaN(a) ? (double?)null : a).ToArray(), seconds);
        }

        RepresentRun TrainAndProbe(string name, CasImageSet set, long[] setIds, PositiveKind kind)
        {
            var clock = Stopwatch.StartNew();
            var (encoder, losses) = ContrastiveTrainer.Train(set.Images, setIds, kind, encoderOptions, device,
                new ProgressRelay<ContrastiveProgress>(p => progress?.Report(new RepresentProgress($"{name} encoder", p.RowsDone, p.RowsTotal))), cancel);
            using (encoder)
            {
                var seconds = clock.Elapsed.TotalSeconds;
                progress?.Report(new RepresentProgress($"{name} probe", 0, 1));
                var run = Probe(name, kind.ToString().ToLowerInvariant(), encoder, set.Count, losses, seconds);
                progress?.Report(new RepresentProgress($"{name} probe", 1, 1));
                return run;
            }
        }

        var syntheticRun = TrainAndProbe("synthetic", synthetic, options.Positives == PositiveKind.Group ? synthetic.Groups! : synthetic.Labels, options.Positives);
        var realRun = TrainAndProbe("real", real, real.Labels, PositiveKind.Instance);
        using var untrained = new ContrastiveEncoder(synthetic.Geometry, encoderOptions.Seed);
        untrained.to(device);
        untrained.eval();
        var untrainedRun = Probe("untrained", "none", untrained, 0, [], 0);
        return new RepresentResult(synthetic.Description, real.Description, test.Description, probeSet.Count, test.Count, test.ClassNames, synthetic.Geometry.ToString(),
            untrained.parameter_count(), encoderOptions, options.ProbeOptions, syntheticRun, realRun, untrainedRun, syntheticRun.Top1 / realRun.Top1, device.ToString(), ToolVersion.Describe());
    }
}
