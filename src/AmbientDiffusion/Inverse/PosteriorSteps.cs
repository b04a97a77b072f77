using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// The two guidance rules at one noise level σ, for a batch whose samples are independent (their gradients never mix).
/// </summary>
public static class PosteriorSteps
{
    /// <summary>h of the forward difference: the perturbation's norm is h·σ.</summary>
    public const double ForwardDifferenceStep = 1e-2;

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
    /// MMPS: E[x | x_t, y] ≈ D(x) + σ² J Aᵀ u with (Σ_y I + σ² A J Aᵀ) u = y − A D(x), J = ∂D/∂x, and u from
    /// <paramref name="cgIterations"/> steps of conjugate gradients (truncated where a direction has less curvature than
    /// Σ_y alone). J·v is taken as <paramref name="product"/> says: by a vector-Jacobian product (Jᵀv, equal to J·v
    /// when J is symmetric, as for an exact denoiser) or by a forward difference (J·v itself, for any denoiser; an
    /// ambient model's fixed-mask denoiser ignores its hidden inputs, so its J is not symmetric). Exact for a Gaussian
    /// prior and a linear A once CG has converged.
    /// </summary>
    public static Tensor MomentMatched(Denoiser denoiser, Tensor x, double sigma, IForwardOperator op, Tensor y, double measurementVariance, int cgIterations,
        JacobianProduct product = JacobianProduct.Reverse)
    {
        using var grad = product == JacobianProduct.Reverse ? torch.enable_grad() : torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var leaf = x.detach();
        if (product == JacobianProduct.Reverse) leaf.requires_grad_();
        var denoised = denoiser(leaf, sigma);
        var mean = denoised.detach();
        Tensor Jacobian(Tensor v)
        {
            if (product == JacobianProduct.Forward)
            {
                // A step of length h·σ along v: D varies on the scale σ, and h keeps the difference far above rounding.
                var step = (ForwardDifferenceStep * sigma / v.flatten(1).norm([1]).clamp(min: 1e-30)).reshape(-1, 1, 1, 1);
                return (denoiser(leaf + step * v, sigma) - mean) / step;
            }
            leaf.grad = null;
            denoised.backward(v, retainGraph: true);
            return (leaf.grad ?? throw new InvalidOperationException("the denoiser did not depend on its input")).detach();
        }
        var variance = sigma * sigma;
        // Σ_y + σ²AJAᵀ ≥ Σ_y for an exact denoiser (J is a covariance over σ²); directions where a network's J breaks
        // that end its CG (truncated CG) instead of diverging.
        var u = ConjugateGradient.Solve(v => measurementVariance * v + variance * op.Apply(Jacobian(op.Adjoint(v))), y - op.Apply(mean), cgIterations, measurementVariance);
        var result = mean + variance * Jacobian(op.Adjoint(u));
        if (product == JacobianProduct.Reverse) leaf.grad = null;
        return scope.MoveToOuter(result);
    }
}
