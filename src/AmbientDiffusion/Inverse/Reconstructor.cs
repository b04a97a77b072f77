using System.Diagnostics;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>Progress of a reconstruction run: posterior samples done out of the total.</summary>
public sealed record ReconstructionProgress(int Done, int Total);

/// <summary>What a reconstruction run produced: images and metrics, ready for <see cref="ReconstructionReport"/>.</summary>
public sealed record ReconstructionResult
{
    /// <summary>Reconstructions, uint8 [N·K, C, H, W], measurement-major (the K samples of measurement j follow each other).</summary>
    public required Tensor Samples { get; init; }

    /// <summary>The seed of each reconstruction.</summary>
    public required IReadOnlyList<ulong> Seeds { get; init; }

    /// <summary>Baseline estimates by name (pseudo_inverse, harmonic_fill), uint8 [N, C, H, W].</summary>
    public required IReadOnlyDictionary<string, Tensor> Baselines { get; init; }

    /// <summary>What to show as the measurement, uint8 [N, C, H, W], and its mask (masks only).</summary>
    public required Tensor MeasurementView { get; init; }

    /// <summary>The masks of a mask operator, [N, 1, H, W], else null.</summary>
    public Tensor? Masks { get; init; }

    /// <summary>The clean images when a reference was given, uint8 [N, C, H, W].</summary>
    public Tensor? Clean { get; init; }

    /// <summary>Per-image metrics by method (reconstruction, baselines): metric name → N·K (or N) values.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double[]>> Metrics { get; init; }

    /// <summary>Seconds spent sampling.</summary>
    public required double SamplingSeconds { get; init; }
}

/// <summary>
/// Reconstructs every measurement of an artifact with a prior: K posterior samples per measurement, sample s of
/// measurement j seeded by seed + j·K + s, plus the classical baselines, and the metrics against the clean images
/// when the measured prepared dataset is given.
/// </summary>
public static class Reconstructor
{
    /// <summary>Name of the reconstructions in the metrics.</summary>
    public const string ReconstructionName = "reconstruction";

    /// <summary>Runs the first <paramref name="count"/> measurements (all when null).</summary>
    public static ReconstructionResult Run(MeasurementArtifact measurements, CheckpointPrior prior, ReconstructionOptions options, ulong seed,
        PreparedDataset? reference = null, int? count = null, IProgress<ReconstructionProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        if (prior.Shape != measurements.Shape)
            throw new ArgumentException($"{measurements.Path}: measured images are {Dims(measurements.Shape)}, the prior makes {Dims(prior.Shape)}");
        var n = count ?? measurements.Count;
        if (n < 1 || n > measurements.Count) throw new ArgumentOutOfRangeException(nameof(count), n, $"{measurements.Path}: 1 to {measurements.Count} measurements");
        if (reference is not null && reference.FileSha256() != measurements.SourceSha256)
            throw new ArgumentException($"{reference.Path}: not the dataset that was measured (its SHA-256 differs from the artifact's source_file_sha256 {measurements.SourceSha256})");
        var k = options.SamplesPerMeasurement;
        var sampler = new PosteriorSampler(options, prior.StopSigma);
        var product = Resolve(options.Jacobian, prior);
        using var outer = torch.NewDisposeScope();
        var perBlock = Math.Max(1, options.BatchSize / k);
        var samples = new Tensor[n * k];
        var views = new List<Tensor>();
        var masks = new List<Tensor>();
        var baselines = new Dictionary<string, List<Tensor>>();
        var consistency = new double[n * k];
        var baselineConsistency = new Dictionary<string, double[]>();
        var watch = Stopwatch.StartNew();
        var done = 0;
        for (var start = 0; start < n; start += perBlock)
        {
            var size = Math.Min(perBlock, n - start);
            using var scope = torch.NewDisposeScope();
            var (y, op) = measurements.Read(start, size);
            for (var s = 0; s < k; s++)
            {
                cancel.ThrowIfCancellationRequested();
                var seeds = Enumerable.Range(start, size).Select(j => seed + (ulong)(j * k + s)).ToList();
                var x = sampler.Sample(prior.For(seeds), op, y, seeds, measurements.Shape, measurements.Spec.NoiseSigma, product);
                // A blown-up posterior step would otherwise be clamped into black or white "reconstructions".
                if (Common.FiniteValues.Problem(x) is { } problem)
                    throw new InvalidDataException($"{measurements.Path}: reconstructing measurements {start}-{start + size - 1} with checkpoint {prior.CheckpointPath} (seeds {seeds[0]}-{seeds[^1]}) gave {problem}: the posterior sampler diverged (try a smaller step size or more steps); nothing was written");
                var bytes = EdmSampler.ToBytes(x);
                var c = ReconstructionMetrics.Consistency(op, FromBytes(bytes), y);
                for (var j = 0; j < size; j++)
                {
                    samples[(start + j) * k + s] = scope.MoveToOuter(bytes[j].unsqueeze(0));
                    consistency[(start + j) * k + s] = c[j];
                }
                done += size;
                progress?.Report(new ReconstructionProgress(done, n * k));
            }
            foreach (var (name, estimate) in Baselines(op, y))
            {
                var bytes = EdmSampler.ToBytes(estimate);
                if (!baselines.TryGetValue(name, out var list)) baselines[name] = list = [];
                list.Add(scope.MoveToOuter(bytes));
                var values = baselineConsistency.TryGetValue(name, out var v) ? v : baselineConsistency[name] = new double[n];
                ReconstructionMetrics.Consistency(op, FromBytes(bytes), y).CopyTo(values, start);
            }
            views.Add(scope.MoveToOuter(EdmSampler.ToBytes(op.MeasurementShape.SequenceEqual(measurements.Shape.Dims) ? y : op.PseudoInverse(y))));
            if (op is MaskOperator mask) masks.Add(scope.MoveToOuter(mask.Masks.to(ScalarType.Byte)));
        }
        var seconds = watch.Elapsed.TotalSeconds;
        var all = torch.cat(samples, 0);
        var baselineImages = baselines.ToDictionary(b => b.Key, b => torch.cat(b.Value, 0));
        var metrics = new Dictionary<string, IReadOnlyDictionary<string, double[]>>
        {
            [ReconstructionName] = new Dictionary<string, double[]> { ["consistency"] = consistency },
        };
        foreach (var (name, values) in baselineConsistency) metrics[name] = new Dictionary<string, double[]> { ["consistency"] = values };
        Tensor? clean = null;
        if (reference is not null)
        {
            var indices = measurements.Indices.Take(n).ToList();
            clean = EdmSampler.ToBytes(Measurer.ReadImages(reference, measurements.Split, indices, measurements.Shape));
            var cleanPerSample = torch.cat(Enumerable.Range(0, n).SelectMany(j => Enumerable.Repeat(clean.narrow(0, j, 1), k)).ToList(), 0);
            AddQuality(metrics, ReconstructionName, all, cleanPerSample);
            foreach (var (name, images) in baselineImages) AddQuality(metrics, name, images, clean);
        }
        var result = new ReconstructionResult
        {
            Samples = outer.MoveToOuter(all),
            Seeds = Enumerable.Range(0, n * k).Select(i => seed + (ulong)i).ToList(),
            Baselines = baselineImages.ToDictionary(b => b.Key, b => outer.MoveToOuter(b.Value)),
            MeasurementView = outer.MoveToOuter(torch.cat(views, 0)),
            Masks = masks.Count > 0 ? outer.MoveToOuter(torch.cat(masks, 0)) : null,
            Clean = clean is null ? null : outer.MoveToOuter(clean),
            Metrics = metrics,
            SamplingSeconds = seconds,
        };
        return result;
    }

    /// <summary>The Jacobian product <see cref="JacobianProduct.Auto"/> stands for with this prior.</summary>
    public static JacobianProduct Resolve(JacobianProduct product, CheckpointPrior prior) => product != JacobianProduct.Auto ? product
        : prior.Mode is FixedMaskSampling ? JacobianProduct.Forward : JacobianProduct.Reverse;

    /// <summary>The classical estimates: the pseudo-inverse, and for masks the harmonic fill.</summary>
    public static IEnumerable<(string name, Tensor estimate)> Baselines(IForwardOperator op, Tensor y)
    {
        yield return ("pseudo_inverse", op.PseudoInverse(y));
        if (op is MaskOperator mask) yield return ("harmonic_fill", HarmonicFill.Fill(y, mask.Masks));
    }

    private static void AddQuality(Dictionary<string, IReadOnlyDictionary<string, double[]>> metrics, string name, Tensor images, Tensor clean)
    {
        var values = new Dictionary<string, double[]>(metrics[name]) { ["psnr"] = ReconstructionMetrics.Psnr(FromBytes(images), FromBytes(clean)) };
        // SSIM's 11×11 window needs images at least that large.
        if (images.shape[2] >= ReconstructionMetrics.SsimWindow && images.shape[3] >= ReconstructionMetrics.SsimWindow)
            values["ssim"] = ReconstructionMetrics.Ssim(FromBytes(images), FromBytes(clean));
        metrics[name] = values;
    }

    private static Tensor FromBytes(Tensor bytes) => bytes.to(ScalarType.Float64) / 127.5 - 1;

    private static string Dims(ImageShape s) => $"{s.Channels}x{s.Height}x{s.Width}";
}
