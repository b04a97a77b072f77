namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>
        /// Parameters re-homed into one contiguous buffer, with their gradients in a second one. Each parameter becomes a
        /// view of <see cref="data"/> and its .grad a view of <see cref="grad"/>; autograd accumulates into the views in
        /// place, so an optimizer, gradient clipping and an EMA each update every weight with a handful of fused
        /// operations on two flat tensors instead of a loop over hundreds of small ones.
        /// Build it after the module is on its final device; moving the module afterwards breaks the link.
        /// </summary>
        public sealed class FlatParameters : IDisposable
        {
            private readonly nn.Parameter[] _parameters;

            /// <summary>Flattens <paramref name="parameters"/> (all of one dtype and device) in order.</summary>
            public FlatParameters(IEnumerable<nn.Parameter> parameters)
            {
                _parameters = parameters.ToArray();
                if (_parameters.Length == 0) throw new ArgumentException("no parameters to optimise", nameof(parameters));
                var (dtype, device) = (_parameters[0].dtype, _parameters[0].device);
                if (_parameters.Any(p => p.dtype != dtype || p.device != device))
                    throw new ArgumentException("flat parameter buffers need every parameter on one dtype and device");
                Offsets = new long[_parameters.Length];
                long total = 0;
                for (var i = 0; i < _parameters.Length; i++)
                {
                    Offsets[i] = total;
                    total += _parameters[i].numel();
                }
                data = empty([total], dtype, device).DetachFromDisposeScope();
                grad = zeros([total], dtype, device).DetachFromDisposeScope();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                for (var i = 0; i < _parameters.Length; i++)
                {
                    var p = _parameters[i];
                    var shape = p.shape;
                    var n = p.numel();
                    var view = data.narrow(0, Offsets[i], n).view(shape);
                    view.copy_(p);
                    p.set_data(view);
                    p.grad = grad.narrow(0, Offsets[i], n).view(shape);
                }
            }

            /// <summary>All weights, concatenated in parameter order.</summary>
            public Tensor data { get; }

            /// <summary>All gradients, concatenated in parameter order.</summary>
            public Tensor grad { get; }

            /// <summary>Start of each parameter in the flat buffers.</summary>
            public long[] Offsets { get; }

            /// <summary>The parameters, in order.</summary>
            public IReadOnlyList<nn.Parameter> Parameters => _parameters;

            /// <summary>Zeroes every gradient in one operation (the views stay attached).</summary>
            public void zero_grad() => grad.zero_();

            /// <summary>The Euclidean norm of all gradients together (a 0-d tensor in the current scope).</summary>
            public Tensor grad_norm() => grad.norm();

            /// <summary>Whether every gradient is finite (a single reduction; one host sync).</summary>
            public bool grads_are_finite()
            {
                using var scope = NewDisposeScope();
                return grad.isfinite().all().item<bool>();
            }

            /// <summary>Scales all gradients so that their joint norm is at most <paramref name="maxNorm"/>, as
            /// <c>torch.nn.utils.clip_grad_norm_</c> (coefficient max/(norm+1e-6), capped at 1, applied without a host
            /// sync). Returns the norm before clipping.</summary>
            public double clip_grad_norm_(double maxNorm)
            {
                using var scope = NewDisposeScope();
                var norm = grad.norm();
                var coefficient = (maxNorm / (norm + 1e-6)).clamp_(max: 1.0);
                grad.mul_(coefficient);
                return norm.item<double>();
            }

            /// <inheritdoc />
            public void Dispose()
            {
                data.Dispose();
                grad.Dispose();
            }
        }
    }
}
