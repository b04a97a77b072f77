using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Compressed sensing: y = Φ vec(x) with one Gaussian matrix Φ [m, C·H·W], entries N(0, 1/m), shared by every image
/// of a measurement set. The baseline is the minimum-norm solution Φᵀ(ΦΦᵀ)⁻¹ y (exact inversion when m = C·H·W).
/// </summary>
public sealed class CompressedSensingOperator : IForwardOperator
{
    /// <summary>Eigenvalues of ΦΦᵀ below this fraction of the largest are treated as zero by the pseudo-inverse.</summary>
    private const double RelativeCutoff = 1e-12;

    private readonly Tensor _matrix;
    private readonly ImageShape _shape;
    private readonly Tensor _gramInverse;

    /// <summary>The operator with matrix [m, C·H·W].</summary>
    public CompressedSensingOperator(OperatorSpec spec, ImageShape shape, Tensor matrix)
    {
        if (spec.Kind != OperatorKind.Cs) throw new ArgumentException($"{spec.Describe()} is not compressed sensing");
        if (matrix.dim() != 2 || matrix.shape[0] != spec.Measurements || matrix.shape[1] != shape.Pixels)
            throw new ArgumentException($"the sensing matrix must be [{spec.Measurements}, {shape.Pixels}], got [{string.Join(", ", matrix.shape)}]");
        (Spec, _shape, _matrix) = (spec, shape, matrix.to(ScalarType.Float64));
        MeasurementShape = [spec.Measurements];
        _gramInverse = GramInverse(_matrix);
    }

    /// <inheritdoc />
    public OperatorSpec Spec { get; }

    /// <inheritdoc />
    public long[] MeasurementShape { get; }

    /// <summary>Φ [m, n] with entries N(0, 1/m) from the stream keyed by the seed: float32.</summary>
    public static Tensor DrawMatrix(OperatorSpec spec, ImageShape shape, ulong seed)
    {
        var random = RandomStreams.For(RandomStream.MeasurementMatrix, seed);
        var scale = 1 / Math.Sqrt(spec.Measurements);
        var values = new float[(long)spec.Measurements * shape.Pixels];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(scale * random.NextGaussian());
        return torch.tensor(values, [spec.Measurements, shape.Pixels]);
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor x) => torch.matmul(x.flatten(1), _matrix.to(x.dtype, x.device).transpose(0, 1));

    /// <inheritdoc />
    public Tensor Adjoint(Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(torch.matmul(y, _matrix.to(y.dtype, y.device)).reshape(y.shape[0], _shape.Channels, _shape.Height, _shape.Width));
    }

    /// <inheritdoc />
    public Tensor PseudoInverse(Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.matmul(y.to(ScalarType.Float64), _gramInverse);
        return scope.MoveToOuter(Adjoint(w).to(y.dtype));
    }

    // (ΦΦᵀ)⁺ through its eigendecomposition, once per operator (it lives in the scope the operator was made in).
    private static Tensor GramInverse(Tensor matrix)
    {
        using var scope = torch.NewDisposeScope();
        var (values, vectors) = torch.linalg.eigh(torch.matmul(matrix, matrix.transpose(0, 1)));
        var cutoff = values.max().item<double>() * RelativeCutoff;
        var inverse = torch.where(values > cutoff, values.clamp(min: cutoff).reciprocal(), torch.zeros_like(values));
        return scope.MoveToOuter(torch.matmul(vectors * inverse.unsqueeze(0), vectors.transpose(0, 1)));
    }
}
