using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class nn
    {
        public static partial class functional
        {
            /// <summary>
            /// Bilinear resize of float x [N, C, H, W] to [N, C, outH, outW] (align_corners false), as
            /// <c>F.interpolate(x, size, mode="bilinear", antialias=antialias)</c>.
            /// </summary>
            public static Tensor resize_bilinear(Tensor x, long outH, long outW, bool antialias) =>
                Tensor.FromNative(NativeMethods.ad_resize_bilinear(x.Handle, outH, outW, antialias ? 1 : 0), "resize_bilinear");

            /// <summary>Reflection padding of x [N, C, H, W], as <c>F.pad(x, (left, right, top, bottom), mode="reflect")</c>.</summary>
            public static Tensor reflection_pad2d(Tensor x, long left, long right, long top, long bottom) =>
                Tensor.FromNative(NativeMethods.ad_reflection_pad2d(x.Handle, left, right, top, bottom), "reflection_pad2d");
        }
    }
}
