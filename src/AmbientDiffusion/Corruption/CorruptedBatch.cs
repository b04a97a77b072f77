using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Corruption;

/// <summary>A minibatch of corrupted training data, as tensors in the caller's dispose scope.</summary>
/// <param name="Observations">y, float32 [B, C, H, W] in [-1, 1] units, removed pixels 0.</param>
/// <param name="Masks">A, float32 [B, 1 or C, H, W], 1 observed.</param>
/// <param name="NoiseSigma">σ_n per image, float32 [B].</param>
/// <param name="Indices">Dataset index of each image (for per-image state such as fixed further corruption).</param>
/// <param name="Labels">Class id of each image, int64 [B], or null when the dataset has no labels.</param>
/// <param name="ClassConditioning">What a class-conditional denoiser is given: one-hot float32 [B, label_dim] of
/// <paramref name="Labels"/>, with all-zero (null-label) rows where label dropout dropped the label; null for
/// unconditional models.</param>
/// <param name="Positions">Each example's position in the run's image stream (epochs of shuffled images, one after
/// another), the key of its training randomness; null for batches that are not read from a stream.</param>
public sealed record CorruptedBatch(Tensor Observations, Tensor Masks, Tensor NoiseSigma, int[] Indices, Tensor? Labels = null, Tensor? ClassConditioning = null, long[]? Positions = null);
