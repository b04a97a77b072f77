using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Em;

/// <summary>One round's prior turned posterior: samples x ~ p(x | y) for a batch of observations, each with its own
/// mask, noise level and seed.</summary>
public interface IEmPosterior : IDisposable
{
    /// <summary>What the prior is, for the round's records.</summary>
    string Describe();

    /// <summary>One sample per row: <paramref name="y"/> float64 [B, C, H, W] with removed values 0,
    /// <paramref name="masks"/> float64 [B, 1, H, W] (1 observed), σ_n and a seed per row; returns float64 [B, C, H, W]
    /// in [-1, 1] that depends only on the row's own inputs and seed.</summary>
    Tensor Sample(Tensor y, Tensor masks, IReadOnlyList<double> noiseSigmas, IReadOnlyList<ulong> seeds);
}
