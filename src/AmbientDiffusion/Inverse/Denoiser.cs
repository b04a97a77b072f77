using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// A prior's denoiser D(x, σ) ≈ E[x_0 | x_t = x] for a batch x float64 (or float32) [B, C, H, W]; differentiable in x
/// (the posterior samplers take vector-Jacobian products through it). Returns [B, C, H, W] in x's dtype.
/// </summary>
public delegate Tensor Denoiser(Tensor x, double sigma);
