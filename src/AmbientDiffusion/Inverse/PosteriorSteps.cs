using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// The two guidance rules at one noise level σ, for a batch whose samples are independent (their gradients never mix).
/// </summary>
public static class PosteriorSteps
{
    /// <summary>
    /// DPS: D(x) and ∇_x Σ_b ‖y_b − A D(x)_b‖ (the unsquared norm, as in the official code), both detached.
    /// </summary>
    public static (Tensor denoised, Tensor gradient) DpsGradient(Denoiser denoiser, Tensor x, double sigma, IForwardOperator op, Tensor y)
    {
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        var leaf = x.detach().requires_grad_();
        var denoised = denoiser(leaf, sigma);
        var residual = (y - op.Apply(denoised)).flatten(1);
        residual.square().sum(1).sqrt().sum().backward();
        var gradient = leaf.grad ?? throw new InvalidOperationException("the denoiser did not depend on its input");
        return (scope.MoveToOuter(denoised.detach()), scope.MoveToOuter(gradient.detach()));
    }

    /// <summary>
    /// MMPS: E[x | x_t, y] ≈ D(x) + σ² J Aᵀ u with (Σ_y I + σ² A J Aᵀ) u = y − A D(x), J = ∂D/∂x applied by
    /// vector-Jacobian products (J is symmetric for an exact denoiser) and u from <paramref name="cgIterations"/> steps
    /// of conjugate gradients (truncated where a direction has less curvature than Σ_y alone). Exact for a Gaussian
    /// prior and a linear A once CG has converged.
    /// </summary>
    public static Tensor MomentMatched(Denoiser denoiser, Tensor x, double sigma, IForwardOperator op, Tensor y, double measurementVariance, int cgIterations)
    {
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        var leaf = x.detach().requires_grad_();
        var denoised = denoiser(leaf, sigma);
        var mean = denoised.detach();
        Tensor Jacobian(Tensor v)
        {
            leaf.grad = null;
            denoised.backward(v, retainGraph: true);
            return (leaf.grad ?? throw new InvalidOperationException("the denoiser did not depend on its input")).detach();
        }
        var variance = sigma * sigma;
        // Σ_y + σ²AJAᵀ ≥ Σ_y for an exact denoiser (J is a covariance over σ²); directions where a network's J breaks
        // that end its CG (truncated CG) instead of diverging.
        var u = ConjugateGradient.Solve(v => measurementVariance * v + variance * op.Apply(Jacobian(op.Adjoint(v))), y - op.Apply(mean), cgIterations, measurementVariance);
        var result = mean + variance * Jacobian(op.Adjoint(u));
        leaf.grad = null;
        return scope.MoveToOuter(result);
    }
}
