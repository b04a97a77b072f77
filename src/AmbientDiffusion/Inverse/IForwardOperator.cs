using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>The size of the images an operator acts on.</summary>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    /// <summary>C·H·W.</summary>
    public int Pixels => Channels * Height * Width;

    /// <summary>[C, H, W].</summary>
    public long[] Dims => [Channels, Height, Width];
}

/// <summary>
/// A linear forward operator y = A x acting on a batch of images [B, C, H, W] (any float dtype; the operator follows
/// the input's dtype), with its adjoint. Every family here is linear; per-image state (masks, motion kernels) belongs
/// to the instance, so an instance serves one batch of measurements.
/// </summary>
public interface IForwardOperator
{
    /// <summary>The settings the operator was built from.</summary>
    OperatorSpec Spec { get; }

    /// <summary>The shape of one image's measurement (without the batch dimension).</summary>
    long[] MeasurementShape { get; }

    /// <summary>A x: [B, C, H, W] → [B, ..MeasurementShape].</summary>
    Tensor Apply(Tensor x);

    /// <summary>Aᵀ y: [B, ..MeasurementShape] → [B, C, H, W], with ⟨A x, y⟩ = ⟨x, Aᵀ y⟩.</summary>
    Tensor Adjoint(Tensor y);

    /// <summary>The classical baseline estimate of x from y: the pseudo-inverse (masks: zero fill; pooling: nearest
    /// upsampling; compressed sensing: the minimum-norm solution; blur: a damped least-squares solve).</summary>
    Tensor PseudoInverse(Tensor y);
}
