using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>
/// Features from a TorchScript network (Inception-v3, DINOv2, SSCD or any other) called with its preset's
/// preprocessing and keyword arguments, in batches on the extractor's device.
/// </summary>
public sealed class TorchScriptFeatureExtractor : IFeatureExtractor
{
    /// <summary>Images per forward call unless the caller says otherwise (bounds activation memory).</summary>
    public const int DefaultBatchSize = 64;

    private readonly ScriptModule _module;
    private readonly Device _device;
    private readonly int _batchSize;

    /// <summary>
    /// Loads the TorchScript file <paramref name="path"/> onto <paramref name="device"/>; a missing, corrupt or
    /// non-TorchScript file throws <see cref="TorchException"/> naming it.
    /// </summary>
    public TorchScriptFeatureExtractor(string path, TorchScriptPreset preset, Device device, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(preset);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize < 1) throw new ArgumentException($"feature batch size {batchSize}: expected at least 1", nameof(batchSize));
        preset.Preprocessing.Validate();
        Preset = preset;
        _device = device;
        _batchSize = batchSize;
        _module = torch.jit.load(path, device);
    }

    /// <summary>The calling convention in use.</summary>
    public TorchScriptPreset Preset { get; }

    /// <summary>The loaded file (full path).</summary>
    public string FilePath => _module.FilePath;

    /// <inheritdoc />
    public string Name => Preset.Name;

    /// <inheritdoc />
    public bool UnitNormalized => Preset.Preprocessing.UnitNormalize;

    /// <inheritdoc />
    public Tensor Extract(Tensor images, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
            throw new ArgumentException($"{Name} features need uint8 [N, C, H, W] images, got {images}", nameof(images));
        var n = images.size(0);
        var rows = new List<Tensor>();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (long start = 0; start < n; start += _batchSize)
        {
            var count = Math.Min(_batchSize, n - start);
            using (var batchScope = torch.NewDisposeScope())
            {
                var input = FeaturePreprocessor.Apply(Preset.Preprocessing, images.narrow(0, start, count).to(_device));
                var output = _module.forward([input], Preset.Kwargs);
                rows.Add(ToRows(output, count).MoveToOuterDisposeScope());
            }
            progress?.Report(start + count);
        }
        if (rows.Count == 0) throw new ArgumentException($"{Name} features: no images given", nameof(images));
        return torch.cat(rows, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The network output as float32 [count, D] CPU rows, unit-normalised when the preset says so.</summary>
    private Tensor ToRows(Tensor output, long count)
    {
        if (output.dim() < 1 || output.size(0) != count)
            throw new TorchException("jit.forward", $"TorchScript file '{FilePath}': forward returned shape [{string.Join(", ", output.shape)}], expected [{count}, D] features for {count} images");
        // A network returning one number per image ([N]) gives 1-d rows; anything with more dims is flattened per image.
        var rows = output.dim() == 1 ? output.to(ScalarType.Float32).unsqueeze(1) : output.to(ScalarType.Float32).flatten(1);
        if (UnitNormalized) rows = FeatureSpaces.UnitRows(rows);
        return rows.cpu().contiguous();
    }

    /// <inheritdoc />
    public void Dispose() => _module.Dispose();
}
