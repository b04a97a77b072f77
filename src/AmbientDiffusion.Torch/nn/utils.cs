namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Utilities, as <c>torch.nn.utils</c>.</summary>
        public static class utils
        {
            /// <summary>Per-tensor gradient clipping for parameters that are not flattened (see
            /// <see cref="optim.FlatParameters.clip_grad_norm_"/> for the fused form). Returns the norm before clipping.</summary>
            public static double clip_grad_norm_(IEnumerable<Parameter> parameters, double maxNorm)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var grads = parameters.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
                if (grads.Count == 0) return 0;
                var norm = stack(grads.Select(g => g.norm()).ToList()).norm();
                var coefficient = (maxNorm / (norm + 1e-6)).clamp_(max: 1.0);
                foreach (var g in grads) g.mul_(coefficient);
                return norm.item<double>();
            }
        }
    }
}
