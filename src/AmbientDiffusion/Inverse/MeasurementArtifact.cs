using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Inverse;

/// <summary>Which images of a prepared dataset were measured.</summary>
public enum MeasuredSplit
{
    /// <summary>The held-out images (never trained on): the usual choice.</summary>
    Heldout,
    /// <summary>The training images.</summary>
    Train,
}

/// <summary>
/// The measurement artifact written by <c>ambient measure</c>: a safetensors file with <c>measurements</c> y float32
/// [N, ..], <c>indices</c> int64 [N] (positions in the source split), the operator's random state (<c>state</c>:
/// per-image masks or motion kernels; <c>shared_state</c>: the sensing matrix) and metadata (the operator in
/// <see cref="OperatorSpec.Describe"/> form, the seed, the split, the image shape, the source file's hash and
/// provenance, the tool). Like the corrupted dataset it never holds the clean images.
/// </summary>
public sealed class MeasurementArtifact : IDisposable
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/measurements/1";

#pragma warning disable CS1591
    public const string MeasurementsKey = "measurements";
    public const string IndicesKey = "indices";
    public const string StateKey = "state";
    public const string SharedStateKey = "shared_state";
#pragma warning restore CS1591

    private readonly SafeTensorsFile _file;

    private MeasurementArtifact(SafeTensorsFile file)
    {
        using var scope = torch.NewDisposeScope();
        _file = file;
        Spec = ParseSpec(Meta("operator"));
        Seed = ulong.TryParse(Meta("seed"), NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed : throw Invalid($"metadata 'seed' = '{Meta("seed")}' is not an unsigned integer");
        Split = Enum.GetValues<MeasuredSplit>().FirstOrDefault(s => Yaml.EnumName(s) == Meta("split"), (MeasuredSplit)(-1));
        if (!Enum.IsDefined(Split)) throw Invalid($"metadata 'split' = '{Meta("split")}', expected {Yaml.Choices<MeasuredSplit>()}");
        var dims = Meta("image_shape").Split(',').Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : -1).ToArray();
        if (dims.Length != 3 || dims.Any(d => d < 1)) throw Invalid($"metadata 'image_shape' = '{Meta("image_shape")}', expected C,H,W");
        Shape = new ImageShape(dims[0], dims[1], dims[2]);
        var y = file.Info(MeasurementsKey);
        var expected = ForwardOperators.Create(Spec, Shape, new OperatorState(Dummy(Spec, Shape), DummyShared(Spec, Shape))).MeasurementShape;
        if (y.Dtype != ScalarType.Float32 || !y.Shape.Skip(1).SequenceEqual(expected))
            throw Invalid($"'{MeasurementsKey}' must be float32 [N, {string.Join(", ", expected)}] for {Spec.Describe()}, got {y.Dtype} [{string.Join(", ", y.Shape)}]");
        Count = (int)y.Shape[0];
        var idx = file.Info(IndicesKey);
        if (idx.Dtype != ScalarType.Int64 || idx.Shape.Length != 1 || idx.Shape[0] != Count)
            throw Invalid($"'{IndicesKey}' must be int64 [{Count}], got {idx.Dtype} [{string.Join(", ", idx.Shape)}]");
        Indices = file.GetTensor(IndicesKey).data<long>();
    }

    private string Meta(string key) => _file.Metadata.TryGetValue(key, out var v) ? v : throw Invalid($"no '{key}' metadata");

    private OperatorSpec ParseSpec(string text)
    {
        try
        {
            return OperatorSpec.Parse(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw Invalid($"metadata 'operator': {e.Message}");
        }
    }

    // Shape checks need an operator; its state only has to have the right geometry.
    private static Tensor? Dummy(OperatorSpec spec, ImageShape shape) => spec.IsMask
        ? torch.ones([1, 1, shape.Height, shape.Width])
        : spec.Kind == OperatorKind.MotionBlur ? torch.ones([1, spec.KernelSize, spec.KernelSize]) : null;

    private static Tensor? DummyShared(OperatorSpec spec, ImageShape shape) => spec.Kind == OperatorKind.Cs ? torch.zeros([spec.Measurements, shape.Pixels]) : null;

    private InvalidDataException Invalid(string message) => new($"{_file.Path}: invalid measurement artifact: {message}");

    /// <summary>Opens and validates an artifact.</summary>
    public static MeasurementArtifact Open(string path)
    {
        var file = ArtifactFile.Open(path, FormatName, "a measurement artifact", "make one with `ambient measure`");
        try
        {
            foreach (var key in new[] { MeasurementsKey, IndicesKey })
                if (!file.Contains(key)) throw new InvalidDataException($"{path}: invalid measurement artifact: no '{key}' tensor");
            var artifact = new MeasurementArtifact(file);
            FiniteValues.Require(file, "measurement artifact", [MeasurementsKey]);
            return artifact;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file.</summary>
    public string Path => _file.Path;

    /// <summary>The operator (and its noise level).</summary>
    public OperatorSpec Spec { get; }

    /// <summary>The measured images' shape.</summary>
    public ImageShape Shape { get; }

    /// <summary>Number of measurements.</summary>
    public int Count { get; }

    /// <summary>The seed the operator state and noise were drawn with.</summary>
    public ulong Seed { get; }

    /// <summary>The split of the source the images came from.</summary>
    public MeasuredSplit Split { get; }

    /// <summary>Each measurement's image index in that split.</summary>
    public long[] Indices { get; }

    /// <summary>Every metadata key.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    /// <summary>The SHA-256 of the prepared dataset that was measured.</summary>
    public string SourceSha256 => Meta("source_file_sha256");

    /// <summary>Throws unless the measurements were made with <paramref name="expected"/> (same operator, parameters and noise).</summary>
    public void RequireOperator(OperatorSpec expected)
    {
        if (expected.Describe() != Spec.Describe())
            throw new ArgumentException($"{Path}: the measurements were made with {Spec.Describe()}, not the requested {expected.Describe()}");
    }

    /// <summary>Measurements [start, start + count): y float64 [count, ..] and the operator for them. Both live in the
    /// caller's dispose scope (the operator holds tensors of its state).</summary>
    public (Tensor y, IForwardOperator op) Read(int start, int count)
    {
        if (start < 0 || count < 1 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"{Path}: measurements [{start}, {start + count}) out of [0, {Count})");
        var y = _file.GetTensor(MeasurementsKey).narrow(0, start, count).to(ScalarType.Float64);
        var perImage = _file.Contains(StateKey) ? _file.GetTensor(StateKey).narrow(0, start, count) : null;
        var shared = _file.Contains(SharedStateKey) ? _file.GetTensor(SharedStateKey) : null;
        IForwardOperator op;
        try
        {
            op = ForwardOperators.Create(Spec, Shape, new OperatorState(perImage, shared));
        }
        catch (ArgumentException e)
        {
            throw Invalid(e.Message);
        }
        return (y, op);
    }

    /// <summary>Writes an artifact (y float32, state as drawn) with the given metadata on top of the format keys.</summary>
    public static void Write(string path, OperatorSpec spec, ImageShape shape, ulong seed, MeasuredSplit split, Tensor measurements, long[] indices,
        OperatorState state, IReadOnlyDictionary<string, string> provenance)
    {
        var metadata = new Dictionary<string, string>(provenance)
        {
            ["format"] = FormatName,
            ["operator"] = spec.Describe(),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["split"] = Yaml.EnumName(split),
            ["image_shape"] = $"{shape.Channels},{shape.Height},{shape.Width}",
            ["tool"] = ToolVersion.Describe(),
        };
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new(MeasurementsKey, measurements.to(ScalarType.Float32).contiguous()),
            new(IndicesKey, torch.tensor(indices, [indices.LongLength])),
        };
        if (state.PerImage is { } perImage) tensors.Add(new(StateKey, perImage.contiguous()));
        if (state.Shared is { } shared) tensors.Add(new(SharedStateKey, shared.contiguous()));
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
