using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Stateless neural-network operators, as <c>torch.nn.functional</c>.</summary>
        public static partial class functional
        {
            /// <summary>2-D convolution of x [N, C, H, W] with weight [O, C/groups, kH, kW].</summary>
            public static unsafe Tensor conv2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
                conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

            /// <summary>2-D convolution with per-axis stride, padding and dilation.</summary>
            public static unsafe Tensor conv2d(Tensor x, Tensor weight, Tensor? bias, (long h, long w) stride, (long h, long w) padding, (long h, long w) dilation, long groups = 1)
            {
                long* s = stackalloc long[] { stride.h, stride.w };
                long* p = stackalloc long[] { padding.h, padding.w };
                long* d = stackalloc long[] { dilation.h, dilation.w };
                var output = Tensor.FromNative(NativeMethods.ad_conv2d(x.Handle, weight.Handle, bias?.Handle ?? IntPtr.Zero, s, p, d, groups), "conv2d");
                if (FlopCounterMode.IsActive) FlopCounterMode.Convolution(output, weight);
                return output;
            }

            /// <summary>2-D transposed convolution; weight is [C_in, C_out/groups, kH, kW] as in PyTorch.</summary>
            public static unsafe Tensor conv_transpose2d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, long dilation = 1)
            {
                long* s = stackalloc long[] { stride, stride };
                long* p = stackalloc long[] { padding, padding };
                long* o = stackalloc long[] { outputPadding, outputPadding };
                long* d = stackalloc long[] { dilation, dilation };
                var output = Tensor.FromNative(NativeMethods.ad_conv_transpose2d(x.Handle, weight.Handle, bias?.Handle ?? IntPtr.Zero, s, p, o, groups, d), "conv_transpose2d");
                if (FlopCounterMode.IsActive) FlopCounterMode.TransposedConvolution(x, weight);
                return output;
            }

            /// <summary>x @ weight^T + bias.</summary>
            public static Tensor linear(Tensor x, Tensor weight, Tensor? bias = null)
            {
                var output = Tensor.FromNative(NativeMethods.ad_linear(x.Handle, weight.Handle, bias?.Handle ?? IntPtr.Zero), "linear");
                if (FlopCounterMode.IsActive) FlopCounterMode.MatrixProduct(output, x);
                return output;
            }

            /// <summary>Group normalisation over channel groups of x [N, C, ...].</summary>
            public static Tensor group_norm(Tensor x, long numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Tensor.FromNative(NativeMethods.ad_group_norm(x.Handle, numGroups, weight?.Handle ?? IntPtr.Zero, bias?.Handle ?? IntPtr.Zero, eps), "group_norm");

            /// <summary>Layer normalisation over the trailing <paramref name="normalizedShape"/> dims.</summary>
            public static unsafe Tensor layer_norm(Tensor x, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
            {
                fixed (long* p = normalizedShape)
                    return Tensor.FromNative(NativeMethods.ad_layer_norm(x.Handle, p, normalizedShape.Length, weight?.Handle ?? IntPtr.Zero, bias?.Handle ?? IntPtr.Zero, eps), "layer_norm");
            }

            /// <summary>Softmax along <paramref name="dim"/>.</summary>
            public static Tensor softmax(Tensor x, long dim) => Tensor.FromNative(NativeMethods.ad_softmax(x.Handle, dim, 0), "softmax");

            /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
            public static Tensor log_softmax(Tensor x, long dim) => Tensor.FromNative(NativeMethods.ad_softmax(x.Handle, dim, 1), "log_softmax");

            /// <summary>x * sigmoid(x).</summary>
            public static Tensor silu(Tensor x) => x.silu();

            /// <summary>Exact (erf) GELU.</summary>
            public static Tensor gelu(Tensor x) => x.gelu();

            /// <summary>Logistic sigmoid.</summary>
            public static Tensor sigmoid(Tensor x) => x.sigmoid();

            /// <summary>max(x, 0).</summary>
            public static Tensor relu(Tensor x) => x.relu();

            /// <summary>Inverted dropout: zeroes elements with probability p while training and scales the rest by 1/(1-p).
            /// Each call draws one 64-bit key from <paramref name="generator"/> (null: the default generator), which is not
            /// touched in eval mode; the mask is a counter-based hash of the key and the element index, so it is the same on
            /// every device and thread count (it is not the stream PyTorch's bernoulli_ would draw).</summary>
            public static Tensor dropout(Tensor x, double p = 0.5, bool training = true, Generator? generator = null) =>
                Tensor.FromNative(NativeMethods.ad_dropout(x.Handle, p, training ? 1 : 0, training && p > 0 ? generator?.Handle ?? IntPtr.Zero : IntPtr.Zero), "dropout");

            /// <summary>The flat float keep mask (0 or 1/(1-p)) that dropout applies for a given key: from the CPU loop or, with
            /// <paramref name="tensorOps"/>, from the tensor-operation form used on other devices. For tests.</summary>
            internal static Tensor dropout_mask(long numel, double p, ulong key, bool tensorOps) =>
                Tensor.FromNative(NativeMethods.ad_dropout_mask(numel, p, key, tensorOps ? 1 : 0), "dropout_mask");

            /// <summary>Nearest-neighbour resize of x [N, C, H, W] to [outH, outW].</summary>
            public static Tensor upsample_nearest2d(Tensor x, long outH, long outW) =>
                Tensor.FromNative(NativeMethods.ad_upsample_nearest2d(x.Handle, outH, outW), "upsample_nearest2d");

            /// <summary>Nearest-neighbour upsampling by an integer factor.</summary>
            public static Tensor interpolate_nearest(Tensor x, int scaleFactor)
            {
                var s = x.shape;
                if (s.Length != 4) throw new TorchException("interpolate_nearest", $"expected a 4-d [N, C, H, W] tensor, got {s.Length}-d");
                return upsample_nearest2d(x, s[2] * scaleFactor, s[3] * scaleFactor);
            }

            /// <summary>2-D average pooling (padding counted, as PyTorch's default).</summary>
            public static unsafe Tensor avg_pool2d(Tensor x, long kernelSize, long? stride = null, long padding = 0)
            {
                var st = stride ?? kernelSize;
                long* k = stackalloc long[] { kernelSize, kernelSize };
                long* s = stackalloc long[] { st, st };
                long* p = stackalloc long[] { padding, padding };
                return Tensor.FromNative(NativeMethods.ad_avg_pool2d(x.Handle, k, s, p), "avg_pool2d");
            }

            /// <summary>Mean (or summed, or unreduced) squared error.</summary>
            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Tensor.FromNative(NativeMethods.ad_mse_loss(input.Handle, target.Handle, (int)reduction), "mse_loss");

            /// <summary>Constant padding; <paramref name="pad"/> lists (before, after) pairs from the last dim backwards.</summary>
            public static unsafe Tensor pad(Tensor x, long[] pad, double value = 0)
            {
                fixed (long* p = pad) return Tensor.FromNative(NativeMethods.ad_pad(x.Handle, p, pad.Length, value), "pad");
            }

            /// <summary>softmax(q k^T / sqrt(d)) v over the last two dims of [..., tokens, d] tensors, written with
            /// matmul and softmax (libtorch 1.13 has no fused attention).</summary>
            public static Tensor scaled_dot_product_attention(Tensor q, Tensor k, Tensor v)
            {
                using var scope = NewDisposeScope();
                var scale = 1.0 / Math.Sqrt(q.size(-1));
                var weights = softmax(matmul(q, k.transpose(-2, -1)).mul_(scale), -1);
                return scope.MoveToOuter(matmul(weights, v));
            }
        }
    }
}

/// <summary>How a loss reduces over elements; values are libtorch's at::Reduction codes.</summary>
public enum Reduction
{
    /// <summary>Unreduced, one term per element.</summary>
    None = 0,
    /// <summary>Mean over elements.</summary>
    Mean = 1,
    /// <summary>Sum over elements.</summary>
    Sum = 2,
}
