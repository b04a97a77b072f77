namespace AmbientDiffusion.Torch;

public static partial class torch
{
    /// <summary>Optimizers and weight averaging over flat parameter buffers, as <c>torch.optim</c>.</summary>
    public static partial class optim
    {
        /// <summary>
        /// Adam (Kingma and Ba) and AdamW (decoupled weight decay, Loshchilov and Hutter) over <see cref="FlatParameters"/>:
        /// one step is six fused operations on the flat buffers whatever the number of parameters. The arithmetic is
        /// PyTorch's single-tensor Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
        /// p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps).
        /// </summary>
        public sealed class Adam : IDisposable
        {
            private readonly FlatParameters _flat;
            private readonly Tensor _expAvg;
            private readonly Tensor _expAvgSq;

            /// <summary>Creates the optimizer over already-flattened parameters (it does not own them).</summary>
            public Adam(FlatParameters parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
            {
                if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be >= 0");
                if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1)");
                if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1)");
                if (eps <= 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be > 0");
                if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be >= 0");
                _flat = parameters;
                (this.lr, Beta1, Beta2, Eps, WeightDecay, DecoupledWeightDecay) = (lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
                _expAvg = zeros_like(parameters.data).DetachFromDisposeScope();
                _expAvgSq = zeros_like(parameters.data).DetachFromDisposeScope();
            }

            /// <summary>AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch).</summary>
            public static Adam AdamW(FlatParameters parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01) =>
                new(parameters, lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay: true);

            /// <summary>The learning rate of the next step (set it for warm-up schedules).</summary>
            public double lr { get; set; }

#pragma warning disable CS1591
            public double Beta1 { get; }
            public double Beta2 { get; }
            public double Eps { get; }
            public double WeightDecay { get; }
            public bool DecoupledWeightDecay { get; }
#pragma warning restore CS1591

            /// <summary>Steps taken (the bias-correction exponent).</summary>
            public long StepCount { get; private set; }

            /// <summary>The first-moment buffer (flat).</summary>
            public Tensor exp_avg => _expAvg;

            /// <summary>The second-moment buffer (flat).</summary>
            public Tensor exp_avg_sq => _expAvgSq;

            /// <summary>Zeroes the gradients.</summary>
            public void zero_grad() => _flat.zero_grad();

            /// <summary>Applies one update from the accumulated gradients.</summary>
            public void step()
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                StepCount++;
                var (param, grad) = (_flat.data, _flat.grad);
                if (WeightDecay != 0)
                {
                    if (DecoupledWeightDecay) param.mul_(1 - lr * WeightDecay);
                    else grad = grad.add(param, WeightDecay);
                }
                _expAvg.mul_(Beta1).add_(grad, 1 - Beta1);
                _expAvgSq.mul_(Beta2).addcmul_(grad, grad, 1 - Beta2);
                var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
                var biasCorrection2 = 1 - Math.Pow(Beta2, StepCount);
                var denominator = _expAvgSq.sqrt().div_(Math.Sqrt(biasCorrection2)).add_(Eps);
                param.addcdiv_(_expAvg, denominator, -lr / biasCorrection1);
            }

            /// <summary>Restores moments and step count saved from <see cref="exp_avg"/>, <see cref="exp_avg_sq"/> and <see cref="StepCount"/>.</summary>
            public void load_state(Tensor expAvg, Tensor expAvgSq, long stepCount)
            {
                if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "step count must be >= 0");
                using var noGrad = no_grad();
                _expAvg.copy_(CheckedLike(expAvg, "exp_avg"));
                _expAvgSq.copy_(CheckedLike(expAvgSq, "exp_avg_sq"));
                StepCount = stepCount;
            }

            private Tensor CheckedLike(Tensor t, string name) =>
                t.numel() == _expAvg.numel() ? t : throw new ArgumentException($"optimizer state '{name}' has {t.numel()} elements, the parameters have {_expAvg.numel()}");

            /// <inheritdoc />
            public void Dispose()
            {
                _expAvg.Dispose();
                _expAvgSq.Dispose();
            }
        }
    }
}
