using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Sampling;

/// <summary>Progress of a sampling run: samples done out of the total.</summary>
public sealed record SamplingProgress(int Done, int Total);

/// <summary>
/// Loads a trained model from a checkpoint (EMA weights by default) and picks the sampler its training implies:
/// fixed-mask for ambient models, early stop at σ_n for models trained on noisy data (Tweedie), plain otherwise.
/// </summary>
public sealed class CheckpointSampler : IDisposable
{
    private readonly Generator _dropout;

    private CheckpointSampler(EdmPreconditioner model, Generator dropout, CheckpointHeader header, SamplingMode mode, string path, bool ema)
        => (Model, _dropout, Header, Mode, CheckpointPath, UsesEma) = (model, dropout, header, mode, path, ema);

    /// <summary>The denoiser, in eval mode, on its device.</summary>
    public EdmPreconditioner Model { get; }

    /// <summary>The checkpoint's header: how the model was trained.</summary>
    public CheckpointHeader Header { get; }

    /// <summary>How the model is sampled.</summary>
    public SamplingMode Mode { get; }

    /// <summary>The checkpoint file.</summary>
    public string CheckpointPath { get; }

    /// <summary>Whether the EMA weights were loaded.</summary>
    public bool UsesEma { get; }

    /// <summary>Loads <paramref name="checkpointPath"/> onto <paramref name="device"/>.</summary>
    public static CheckpointSampler Load(string checkpointPath, Device device, bool ema = true)
    {
        using var file = Checkpoint.Open(checkpointPath);
        var header = CheckpointHeader.Read(file);
        var mode = SamplingModes.For(header, checkpointPath);
        var dropout = new Generator(0);
        try
        {
            return new CheckpointSampler(Checkpoint.LoadDenoiser(file, header, dropout, device, ema), dropout, header, mode, checkpointPath, ema);
        }
        catch
        {
            dropout.Dispose();
            throw;
        }
    }

    /// <summary>Whether the model is class-conditional.</summary>
    public bool IsConditional => Model.Network.LabelDim > 0;

    /// <summary>The classes samples with <paramref name="seeds"/> are drawn for under <paramref name="options"/> (null for
    /// an unconditional model): the options' class, or balanced by seed (<see cref="SampleClasses"/>).</summary>
    public long[]? Classes(IReadOnlyList<ulong> seeds, SamplerOptions options) =>
        IsConditional ? SampleClasses.For(seeds, Model.Network.LabelDim, options.Class) : null;

    /// <summary>
    /// Draws one sample per seed in batches of <paramref name="batchSize"/>: uint8 [N, C, H, W] on the CPU. A sample
    /// depends only on its seed (and, for class-conditional models, on its class and the guidance), so batch size and
    /// order do not change it. Class-conditional models draw the classes of <see cref="Classes"/>.
    /// </summary>
    public Tensor Sample(IReadOnlyList<ulong> seeds, SamplerOptions options, int batchSize, IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default) =>
        Sample(seeds, null, null, options, batchSize, progress, cancel);

    /// <summary>As <see cref="Sample(IReadOnlyList{ulong}, SamplerOptions, int, IProgress{SamplingProgress}?, CancellationToken)"/>,
    /// with explicit <paramref name="classes"/> (default: <see cref="Classes"/>) and nearby starting noises
    /// (<paramref name="views"/>, see <see cref="SampleViews"/>).</summary>
    public Tensor Sample(IReadOnlyList<ulong> seeds, IReadOnlyList<long>? classes, SampleViews? views, SamplerOptions options, int batchSize,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (batchSize < 1) throw new ArgumentException($"sampling batch size must be at least 1, got {batchSize}");
        var sampler = new EdmSampler(Model, options, Mode);
        classes ??= sampler.DefaultClasses(seeds);
        views?.Check(seeds.Count);
        using var outer = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (var start = 0; start < seeds.Count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, seeds.Count - start);
            var batch = seeds.Skip(start).Take(count).ToList();
            var batchClasses = classes?.Skip(start).Take(count).ToList();
            var batchViews = views is null ? null : views with { Views = views.Views.Skip(start).Take(count).ToList() };
            using (var scope = torch.NewDisposeScope())
                parts.Add(scope.MoveToOuter(EdmSampler.ToBytes(RequireFinite(sampler.Sample(batch, batchClasses, batchViews), batch))));
            progress?.Report(new SamplingProgress(start + batch.Count, seeds.Count));
        }
        return outer.MoveToOuter(torch.cat(parts, 0));
    }

    /// <summary>The images of <paramref name="seeds"/>, unless some value is not finite: the weights were checked when
    /// loaded, so that is the sampler blowing up, and clamping it would store black or white images as if they were samples.</summary>
    private Tensor RequireFinite(Tensor images, IReadOnlyList<ulong> seeds) => FiniteValues.Problem(images) is { } problem
        ? throw new InvalidDataException($"checkpoint {CheckpointPath}: sampling seeds {seeds[0]}-{seeds[^1]} gave {problem} although the weights are finite (the sampler diverged; try more steps, another sigma_min, or an earlier checkpoint); nothing was written")
        : images;

    /// <summary>Samples every seed and writes the sample set (<see cref="SampleSet"/>) into <paramref name="directory"/>.</summary>
    public void SampleTo(string directory, IReadOnlyList<ulong> seeds, SamplerOptions options, int batchSize, int gridCount = 64, bool singlePngs = false,
        string? seedsText = null, IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        using var scope = torch.NewDisposeScope();
        var samples = Sample(seeds, options, batchSize, progress, cancel);
        var metadata = Describe(options);
        if (seedsText is not null) metadata["seeds"] = seedsText;
        SampleSet.Write(directory, samples, seeds, metadata, gridCount, singlePngs, Labels(seeds, options));
    }

    /// <summary>The class labels of samples drawn for <paramref name="seeds"/> (null for an unconditional model).</summary>
    public SampleLabels? Labels(IReadOnlyList<ulong> seeds, SamplerOptions options) =>
        Classes(seeds, options) is { } classes ? new SampleLabels(classes, Header.ClassNames) : null;

    /// <summary>Metadata describing samples drawn by this sampler (written into samples.safetensors); class-conditional
    /// models add the guidance weight and the class selection.</summary>
    public Dictionary<string, string> Describe(SamplerOptions options)
    {
        var metadata = DescribeCommon(options);
        if (!IsConditional) return metadata;
        metadata["guidance"] = options.Guidance.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        metadata["classes"] = options.Class is { } k ? k.ToString(System.Globalization.CultureInfo.InvariantCulture) : "balanced (seed mod label_dim)";
        return metadata;
    }

    private Dictionary<string, string> DescribeCommon(SamplerOptions options) => new()
    {
        ["checkpoint"] = Path.GetFullPath(CheckpointPath),
        ["weights"] = UsesEma ? "ema" : "raw",
        ["sampler"] = Mode.Describe(),
        ["sampler_options"] = DescribeOptions(options),
        ["run_name"] = RunName,
        ["loss"] = Yaml.EnumName(Header.Loss.Kind),
        ["tool"] = ToolVersion.Describe(),
    };

    /// <summary>The sampler settings as recorded in samples.safetensors (JSON).</summary>
    public static string DescribeOptions(SamplerOptions options) => JsonSerializer.Serialize(options.ToSamplerOptions(), ProvenanceJson.Options);

    /// <summary>The run's name, as its resolved config records it.</summary>
    public string RunName => Header.RunName;

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        _dropout.Dispose();
    }
}
