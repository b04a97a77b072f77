using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// A trainable tensor owned by its module: a leaf that requires grad and belongs to no dispose scope, so
        /// training steps can run inside scopes without freeing the weights. Disposed with its module.
        /// </summary>
        public sealed class Parameter : Tensor
        {
            /// <summary>Wraps (a detached alias of) <paramref name="data"/>; <paramref name="data"/> itself is left to its owner.</summary>
            public Parameter(Tensor data, bool requiresGrad = true)
                : base(NativeMethods.Check(NativeMethods.ad_detach(data.Handle), "parameter"), attachToScope: false)
            {
                requires_grad = requiresGrad;
            }
        }
    }
}
