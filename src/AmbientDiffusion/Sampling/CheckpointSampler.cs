using System.Globalization;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
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

    private CheckpointSampler(EdmPreconditioner model, Generator dropout, ExperimentConfig config, SamplingMode mode, string path, bool ema)
        => (Model, _dropout, Config, Mode, CheckpointPath, UsesEma) = (model, dropout, config, mode, path, ema);

    /// <summary>The denoiser, in eval mode, on its device.</summary>
    public EdmPreconditioner Model { get; }

    /// <summary>The config the model was trained with.</summary>
    public ExperimentConfig Config { get; }

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
        var config = ConfigLoader.Parse(Checkpoint.Require(file, "config"), $"{checkpointPath} (config)");
        int Int(string key) => int.TryParse(Checkpoint.Require(file, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new InvalidDataException($"{checkpointPath}: metadata '{key}' is not an integer");
        var (channels, maskChannels, resolution) = (Int("image_channels"), Int("mask_channels"), Int("resolution"));
        var mode = ModeFor(config, maskChannels, Checkpoint.Require(file, "data_corruption_spec"), Checkpoint.Require(file, "data_noise_sigma_max"), checkpointPath);
        // Weights are overwritten by the checkpoint; the init generator only has to exist. The dropout generator lives
        // as long as the model (eval mode never draws from it).
        using var init = new Generator(0);
        var dropout = new Generator(0);
        var model = new EdmPreconditioner(ModelFactory.Create(config.Model, channels, maskChannels, resolution, init, dropout), perPixelHidden: config.Model.MaskPreconditioning == "per_pixel");
        try
        {
            Checkpoint.LoadWeights(file, model, ema);
            model.eval();
            model.to(device);
            return new CheckpointSampler(model, dropout, config, mode, checkpointPath, ema);
        }
        catch
        {
            model.Dispose();
            dropout.Dispose();
            throw;
        }
    }

    private static SamplingMode ModeFor(ExperimentConfig config, int maskChannels, string specJson, string noiseSigmaMax, string path)
    {
        if (maskChannels > 0)
        {
            var spec = JsonSerializer.Deserialize<CorruptionSpec>(specJson, ProvenanceJson.Options)
                ?? throw new InvalidDataException($"{path}: metadata 'data_corruption_spec' is empty");
            // The sampler draws masks like the training masks; noise is not part of a mask.
            var maskOnly = (spec with { NoiseSigma = 0, NoiseFraction = 1 }).ToOperator();
            return new SamplingMode { Mask = maskOnly, Delta = config.Loss.Delta, MaskChannels = maskChannels };
        }
        if (config.Loss.Kind == "tweedie")
        {
            var sigma = double.Parse(noiseSigmaMax, NumberStyles.Float, CultureInfo.InvariantCulture);
            return sigma > 0 ? new SamplingMode { StopSigma = sigma } : SamplingMode.Plain;
        }
        return SamplingMode.Plain;
    }

    /// <summary>
    /// Draws one sample per seed in batches of <paramref name="batchSize"/>: uint8 [N, C, H, W] on the CPU. A sample
    /// depends only on its seed, so batch size and order do not change it.
    /// </summary>
    public Tensor Sample(IReadOnlyList<ulong> seeds, SamplerOptions options, int batchSize, IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (batchSize < 1) throw new ArgumentException($"sampling batch size must be at least 1, got {batchSize}");
        var sampler = new EdmSampler(Model, options, Mode);
        using var outer = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (var start = 0; start < seeds.Count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = seeds.Skip(start).Take(batchSize).ToList();
            using (var scope = torch.NewDisposeScope())
                parts.Add(scope.MoveToOuter(EdmSampler.ToBytes(sampler.Sample(batch))));
            progress?.Report(new SamplingProgress(start + batch.Count, seeds.Count));
        }
        return outer.MoveToOuter(torch.cat(parts, 0));
    }

    /// <summary>Samples every seed and writes the sample set (<see cref="SampleSet"/>) into <paramref name="directory"/>.</summary>
    public void SampleTo(string directory, IReadOnlyList<ulong> seeds, SamplerOptions options, int batchSize, int gridCount = 64, bool singlePngs = false,
        string? seedsText = null, IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        using var scope = torch.NewDisposeScope();
        var samples = Sample(seeds, options, batchSize, progress, cancel);
        var metadata = Describe(options);
        if (seedsText is not null) metadata["seeds"] = seedsText;
        SampleSet.Write(directory, samples, seeds, metadata, gridCount, singlePngs);
    }

    /// <summary>Metadata describing samples drawn by this sampler (written into samples.safetensors).</summary>
    public Dictionary<string, string> Describe(SamplerOptions options) => new()
    {
        ["checkpoint"] = Path.GetFullPath(CheckpointPath),
        ["weights"] = UsesEma ? "ema" : "raw",
        ["sampler"] = Mode.Describe(),
        ["sampler_options"] = DescribeOptions(options),
        ["run_name"] = Config.Name,
        ["loss"] = Config.Loss.Kind,
        ["tool"] = ToolVersion.Describe(),
    };

    /// <summary>The sampler settings as recorded in samples.safetensors (JSON).</summary>
    public static string DescribeOptions(SamplerOptions options) => JsonSerializer.Serialize(options, ProvenanceJson.Options);

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        _dropout.Dispose();
    }
}
