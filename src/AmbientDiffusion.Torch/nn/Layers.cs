using static AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Weight initialisers that draw from an explicit generator, so that model construction is seeded.</summary>
        public static class init
        {
            /// <summary>PyTorch's default for Linear and Conv2d (kaiming_uniform with a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
            public static Parameter DefaultUniform(long[] shape, long fanIn, Generator? generator)
            {
                using var scope = NewDisposeScope();
                var bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
                return new Parameter(empty(shape).uniform_(-bound, bound, generator));
            }
        }

        /// <summary>y = x W^T + b.</summary>
        public sealed class Linear : Module<Tensor, Tensor>
        {
            /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
            public Linear(long inFeatures, long outFeatures, bool hasBias = true, Generator? generator = null)
            {
                weight = register_parameter(nameof(weight), init.DefaultUniform([outFeatures, inFeatures], inFeatures, generator));
                if (hasBias) bias = register_parameter(nameof(bias), init.DefaultUniform([outFeatures], inFeatures, generator));
            }

            /// <summary>[out, in].</summary>
            public Parameter weight { get; }

            /// <summary>[out] or null.</summary>
            public Parameter? bias { get; }

            /// <inheritdoc />
            public override Tensor forward(Tensor input) => linear(input, weight, bias);
        }

        /// <summary>2-D convolution with square kernels.</summary>
        public sealed class Conv2d : Module<Tensor, Tensor>
        {
            private readonly long _stride, _padding, _dilation, _groups;

            /// <summary>Creates the layer with PyTorch's default initialisation.</summary>
            public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool hasBias = true, Generator? generator = null)
            {
                if (inChannels % groups != 0 || outChannels % groups != 0)
                    throw new ArgumentException($"channels ({inChannels} -> {outChannels}) must be divisible by groups ({groups})");
                (_stride, _padding, _dilation, _groups) = (stride, padding, dilation, groups);
                var fanIn = inChannels / groups * kernelSize * kernelSize;
                weight = register_parameter(nameof(weight), init.DefaultUniform([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn, generator));
                if (hasBias) bias = register_parameter(nameof(bias), init.DefaultUniform([outChannels], fanIn, generator));
            }

            /// <summary>[out, in/groups, k, k].</summary>
            public Parameter weight { get; }

            /// <summary>[out] or null.</summary>
            public Parameter? bias { get; }

            /// <inheritdoc />
            public override Tensor forward(Tensor input) => conv2d(input, weight, bias, _stride, _padding, _dilation, _groups);
        }

        /// <summary>Group normalisation with per-channel affine parameters.</summary>
        public sealed class GroupNorm : Module<Tensor, Tensor>
        {
            private readonly long _groups;
            private readonly double _eps;

            /// <summary>Creates the layer (weight 1, bias 0).</summary>
            public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, bool affine = true)
            {
                if (numChannels % numGroups != 0) throw new ArgumentException($"{numChannels} channels are not divisible into {numGroups} groups");
                (_groups, _eps) = (numGroups, eps);
                if (!affine) return;
                using var scope = NewDisposeScope();
                weight = register_parameter(nameof(weight), new Parameter(ones([numChannels])));
                bias = register_parameter(nameof(bias), new Parameter(zeros([numChannels])));
            }

            /// <summary>[C] or null.</summary>
            public Parameter? weight { get; }

            /// <summary>[C] or null.</summary>
            public Parameter? bias { get; }

            /// <inheritdoc />
            public override Tensor forward(Tensor input) => group_norm(input, _groups, weight, bias, _eps);
        }

        /// <summary>Layer normalisation over the trailing dims.</summary>
        public sealed class LayerNorm : Module<Tensor, Tensor>
        {
            private readonly long[] _shape;
            private readonly double _eps;

            /// <summary>Creates the layer (weight 1, bias 0).</summary>
            public LayerNorm(long[] normalizedShape, double eps = 1e-5)
            {
                (_shape, _eps) = (normalizedShape, eps);
                using var scope = NewDisposeScope();
                weight = register_parameter(nameof(weight), new Parameter(ones(normalizedShape)));
                bias = register_parameter(nameof(bias), new Parameter(zeros(normalizedShape)));
            }

            /// <summary>Scale.</summary>
            public Parameter weight { get; }

            /// <summary>Shift.</summary>
            public Parameter bias { get; }

            /// <inheritdoc />
            public override Tensor forward(Tensor input) => layer_norm(input, _shape, weight, bias, _eps);
        }

        /// <summary>Inverted dropout, active in training mode, drawing masks from its own generator when given one.</summary>
        public sealed class Dropout : Module<Tensor, Tensor>
        {
            private readonly double _p;
            private readonly Generator? _generator;

            /// <summary>Creates the layer.</summary>
            public Dropout(double p = 0.5, Generator? generator = null)
            {
                if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1]");
                (_p, _generator) = (p, generator);
            }

            /// <inheritdoc />
            public override Tensor forward(Tensor input) => dropout(input, _p, training, _generator);
        }

        /// <summary>Runs its modules one after another.</summary>
        public sealed class Sequential : Module<Tensor, Tensor>
        {
            private readonly Module<Tensor, Tensor>[] _layers;

            /// <summary>Registers the layers as "0", "1", ...</summary>
            public Sequential(params Module<Tensor, Tensor>[] layers)
            {
                _layers = layers;
                for (var i = 0; i < layers.Length; i++) register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
            }

            /// <inheritdoc />
            public override Tensor forward(Tensor input)
            {
                // Intermediate results belong to the caller's scope, like every other op's.
                var x = input;
                foreach (var layer in _layers) x = layer.forward(x);
                return x;
            }
        }
    }
}
