using System.Runtime.InteropServices;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Corruption;

/// <summary>
/// The corrupted-dataset artifact, the only thing training reads (the clean-data firewall). A safetensors file with
/// <list type="bullet">
/// <item><c>observations</c>: [N, C, H, W], uint8 when no noise was added (removed pixels stored as 0), float16 in
/// [-1, 1] units when noise makes values non-integer (removed pixels 0);</item>
/// <item><c>masks</c>: uint8 [N, 1 or C, H, W], 1 observed, 0 removed;</item>
/// <item><c>noise_sigma</c>: float32 [N], the noise level σ_n of each image (0 for none);</item>
/// </list>
/// and metadata: the operator, the seed, the source file's hash and provenance, and the tool versions. A labelled source
/// adds int64 <c>labels</c> [N] and <c>class_names</c> metadata (<see cref="Data.DatasetLabels"/>), uncorrupted.
/// </summary>
public sealed class CorruptedDataset : IDisposable
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/corrupted-dataset/1";

#pragma warning disable CS1591
    public const string ObservationsKey = "observations";
    public const string MasksKey = "masks";
    public const string NoiseSigmaKey = "noise_sigma";
#pragma warning restore CS1591

    private readonly SafeTensorsFile _file;
    private readonly float[] _sigmas;

    private CorruptedDataset(SafeTensorsFile file)
    {
        _file = file;
        var obs = file.Info(ObservationsKey);
        var masks = file.Info(MasksKey);
        var sigma = file.Info(NoiseSigmaKey);
        if (obs.Shape.Length != 4 || obs.Dtype is not (ScalarType.Byte or ScalarType.Float16))
            throw Invalid($"'{ObservationsKey}' must be uint8 or float16 [N, C, H, W], got {obs.Dtype} [{string.Join(", ", obs.Shape)}]");
        (Count, Channels, Height, Width) = ((int)obs.Shape[0], (int)obs.Shape[1], (int)obs.Shape[2], (int)obs.Shape[3]);
        if (masks.Dtype != ScalarType.Byte || masks.Shape.Length != 4 || masks.Shape[0] != Count || masks.Shape[2] != Height || masks.Shape[3] != Width || (masks.Shape[1] != 1 && masks.Shape[1] != Channels))
            throw Invalid($"'{MasksKey}' must be uint8 [{Count}, 1 or {Channels}, {Height}, {Width}], got {masks.Dtype} [{string.Join(", ", masks.Shape)}]");
        if (sigma.Dtype != ScalarType.Float32 || sigma.Shape.Length != 1 || sigma.Shape[0] != Count)
            throw Invalid($"'{NoiseSigmaKey}' must be float32 [{Count}], got {sigma.Dtype} [{string.Join(", ", sigma.Shape)}]");
        MaskChannels = (int)masks.Shape[1];
        ObservationType = obs.Dtype;
        // Removed pixels are stored as 0, so a NaN anywhere is damage, and it would reach the loss even under a mask.
        if (ObservationType == ScalarType.Float16) FiniteValues.Require(file, "corrupted dataset", [ObservationsKey]);
        _sigmas = new float[Count];
        file.ReadBytes(NoiseSigmaKey, 0, MemoryMarshal.AsBytes(_sigmas.AsSpan()));
        for (var i = 0; i < Count; i++)
            if (!float.IsFinite(_sigmas[i]) || _sigmas[i] < 0) throw Invalid($"noise_sigma[{i}] = {_sigmas[i]} is not a finite level >= 0");
        MaxNoiseSigma = Count == 0 ? 0 : _sigmas.Max();
        ClassNames = Data.DatasetLabels.ReadClassNames(file);
        if (file.Contains(Data.DatasetLabels.LabelsKey)) Labels = Data.DatasetLabels.ReadLabels(file, Data.DatasetLabels.LabelsKey, Count, ClassNames);
    }

    /// <summary>The class id of each image, or null for an unlabelled dataset.</summary>
    public long[]? Labels { get; }

    /// <summary>The class names, indexed by class id, or null for an unlabelled dataset.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    private InvalidDataException Invalid(string message) => new($"{_file.Path}: invalid corrupted dataset: {message}");

    /// <summary>Opens and validates an artifact.</summary>
    public static CorruptedDataset Open(string path)
    {
        var file = ArtifactFile.Open(path, FormatName, "a corrupted dataset", "make one with `ambient corrupt`");
        try
        {
            foreach (var key in new[] { ObservationsKey, MasksKey, NoiseSigmaKey })
                if (!file.Contains(key)) throw new InvalidDataException($"{path}: invalid corrupted dataset: no '{key}' tensor");
            return new CorruptedDataset(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file.</summary>
    public string Path => _file.Path;

#pragma warning disable CS1591
    public int Count { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
#pragma warning restore CS1591

    /// <summary>1 when masks are shared across colour channels, C when drawn per channel.</summary>
    public int MaskChannels { get; }

    /// <summary>uint8 (masks only) or float16 (noise).</summary>
    public ScalarType ObservationType { get; }

    /// <summary>Metadata written by <c>corrupt</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    /// <summary>Noise level of image <paramref name="index"/>.</summary>
    public float NoiseSigma(int index) => _sigmas[index];

    /// <summary>Whether any image has noise.</summary>
    public bool HasNoise => MaxNoiseSigma > 0;

    /// <summary>The largest noise level of any image (0 without noise): where the early-stop sampler stops.</summary>
    public float MaxNoiseSigma { get; }

    /// <summary>Whether any pixel of any image is removed (scans the masks once).</summary>
    public bool HasMissingPixels => _hasMissing ??= ScanMasks();

    private bool? _hasMissing;

    private bool ScanMasks()
    {
        var plane = new byte[MaskChannels * Height * Width];
        for (var i = 0; i < Count; i++)
        {
            _file.ReadBytes(MasksKey, (long)i * plane.Length, plane);
            if (plane.AsSpan().IndexOf((byte)0) >= 0) return true;
        }
        return false;
    }

    /// <summary>
    /// Reads image <paramref name="index"/>: the observation y in [-1, 1] units with removed pixels exactly 0 (CHW) and
    /// its mask (MaskChannels×H×W, 0 or 1). Pixels the mask removes are zeroed here too, so nothing stored at a removed
    /// position can reach training whatever the file holds.
    /// </summary>
    public void ReadSample(int index, Span<float> observation, Span<float> mask)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Path}: {Count} images");
        var pixels = Channels * Height * Width;
        var plane = Height * Width;
        Span<byte> maskBytes = MaskChannels * plane <= 65536 ? stackalloc byte[MaskChannels * plane] : new byte[MaskChannels * plane];
        _file.ReadBytes(MasksKey, (long)index * maskBytes.Length, maskBytes);
        for (var i = 0; i < maskBytes.Length; i++) mask[i] = maskBytes[i] != 0 ? 1f : 0f;
        if (ObservationType == ScalarType.Byte)
        {
            Span<byte> raw = pixels <= 65536 ? stackalloc byte[pixels] : new byte[pixels];
            _file.ReadBytes(ObservationsKey, (long)index * pixels, raw);
            for (var i = 0; i < pixels; i++) observation[i] = raw[i] / 127.5f - 1f;
        }
        else
        {
            var raw = new Half[pixels];
            _file.ReadBytes(ObservationsKey, (long)index * pixels * 2, MemoryMarshal.AsBytes(raw.AsSpan()));
            for (var i = 0; i < pixels; i++) observation[i] = (float)raw[i];
        }
        for (var c = 0; c < Channels; c++)
        {
            var m = mask.Slice((MaskChannels == 1 ? 0 : c) * plane, plane);
            var o = observation.Slice(c * plane, plane);
            for (var i = 0; i < plane; i++) o[i] *= m[i];
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
