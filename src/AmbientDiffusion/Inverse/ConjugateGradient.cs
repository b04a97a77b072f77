using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Inverse;

/// <summary>
/// Batched conjugate gradients for symmetric positive (semi-)definite systems K v = b, one independent system per
/// batch item (the first dimension), started from v = 0. Used by MMPS for (Σ_y + σ² A J Aᵀ) u = r and by the blur
/// baseline for (AᵀA + λI) x = Aᵀ y. With a curvature floor it is truncated CG: a system in which a search direction p
/// has pᵀKp &lt; floor·|p|² (K less definite than the theory promises, e.g. a network's Jacobian that is not positive
/// semi-definite) keeps its current iterate instead of stepping along it, which would diverge.
/// </summary>
public static class ConjugateGradient
{
    /// <summary>Smallest denominator: a converged system (zero residual) then takes zero steps instead of 0/0.</summary>
    private const double Tiny = 1e-30;

    /// <summary>Runs <paramref name="iterations"/> steps of CG for <paramref name="apply"/>(v) = <paramref name="b"/>; a system
    /// stops at the first direction whose curvature is below <paramref name="curvatureFloor"/>·|p|².</summary>
    public static Tensor Solve(Func<Tensor, Tensor> apply, Tensor b, int iterations, double curvatureFloor = 0)
    {
        if (iterations < 0) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "CG iterations must be >= 0");
        using var outer = torch.NewDisposeScope();
        var v = torch.zeros_like(b);
        var r = b;
        var p = b;
        var rs = Dot(r, r);
        var active = torch.ones_like(rs);
        for (var i = 0; i < iterations; i++)
        {
            using var scope = torch.NewDisposeScope();
            var kp = apply(p);
            var curvature = Dot(p, kp);
            var stillActive = active * (curvature > Dot(p, p) * curvatureFloor).to(active.dtype);
            var alpha = stillActive * rs / curvature.abs().clamp(min: Tiny);
            var vNext = v + Broadcast(alpha, b) * p;
            var rNext = r - Broadcast(alpha, b) * kp;
            var rsNext = Dot(rNext, rNext);
            var pNext = rNext + Broadcast(rsNext / rs.clamp(min: Tiny), b) * p;
            (v, r, p, rs, active) = (scope.MoveToOuter(vNext), scope.MoveToOuter(rNext), scope.MoveToOuter(pNext), scope.MoveToOuter(rsNext), scope.MoveToOuter(stillActive));
        }
        return outer.MoveToOuter(v);
    }

    /// <summary>Per-item inner products ⟨a_b, c_b⟩: [B].</summary>
    public static Tensor Dot(Tensor a, Tensor c) => (a * c).flatten(1).sum(1);

    private static Tensor Broadcast(Tensor perItem, Tensor like)
    {
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return perItem.reshape(shape);
    }
}
