using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

public static partial class torch
{
    /// <summary>Linear algebra (torch.linalg).</summary>
    public static class linalg
    {
        /// <summary>Eigenvalues (ascending) and orthonormal eigenvectors (as columns) of symmetric matrices
        /// <paramref name="a"/> [..., n, n]; only the lower triangle is read.</summary>
        public static unsafe (Tensor eigenvalues, Tensor eigenvectors) eigh(Tensor a)
        {
            IntPtr values, vectors;
            NativeMethods.Check(NativeMethods.ad_linalg_eigh(a.Handle, &values, &vectors), "linalg.eigh");
            return (Tensor.FromNative(values, "linalg.eigh"), Tensor.FromNative(vectors, "linalg.eigh"));
        }
    }
}
