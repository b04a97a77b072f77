namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class optim
    {
        /// <summary>
        /// Exponential moving average of weights, kept in a flat shadow buffer: update is one lerp. EDM specifies the
        /// decay by a half-life in training images; <see cref="BetaForHalfLife"/> converts it per step.
        /// </summary>
        public sealed class ExponentialMovingAverage : IDisposable
        {
            private readonly FlatParameters _source;

            /// <summary>Starts the average at the current weights.</summary>
            public ExponentialMovingAverage(FlatParameters source)
            {
                _source = source;
                shadow = source.data.clone().DetachFromDisposeScope();
            }

            /// <summary>The averaged weights, flat, in parameter order.</summary>
            public Tensor shadow { get; }

            /// <summary>shadow = beta · shadow + (1 - beta) · weights.</summary>
            public void update(double beta)
            {
                if (beta is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(beta), beta, "EMA decay must lie in [0, 1]");
                using var noGrad = no_grad();
                shadow.lerp_(_source.data, 1 - beta);
            }

            /// <summary>The per-step decay that halves a weight's influence after <paramref name="halfLifeImages"/> images,
            /// with <paramref name="imagesPerStep"/> images per step: 0.5^(imagesPerStep / halfLifeImages).</summary>
            public static double BetaForHalfLife(double imagesPerStep, double halfLifeImages) =>
                halfLifeImages > 0 ? Math.Pow(0.5, imagesPerStep / halfLifeImages) : 0;

            /// <summary>Swaps the averaged and the live weights (call again to swap back), e.g. to sample from the EMA.</summary>
            public void swap()
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var live = _source.data.clone();
                _source.data.copy_(shadow);
                shadow.copy_(live);
            }

            /// <inheritdoc />
            public void Dispose() => shadow.Dispose();
        }
    }
}
