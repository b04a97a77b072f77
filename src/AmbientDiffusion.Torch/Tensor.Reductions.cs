using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>Codes of ad_reduce (src/AmbientDiffusion.Native/src/reduction.cpp).</summary>
internal enum ReduceOp
{
    Sum = 0, Mean, Amax, Amin, Prod, Var, Std, LogSumExp, Norm, Any, All, ArgMax, ArgMin, VarPopulation, StdPopulation,
}

public partial class Tensor
{
    private unsafe Tensor Reduce(ReduceOp op, ReadOnlySpan<long> dims, bool keepdim, string name)
    {
        fixed (long* p = dims) return FromNative(NativeMethods.ad_reduce(Handle, (int)op, p, dims.Length, keepdim ? 1 : 0), name);
    }

    /// <summary>Sum of every element (a 0-d tensor).</summary>
    public Tensor sum() => Reduce(ReduceOp.Sum, default, false, "sum");

    /// <summary>Sum over <paramref name="dims"/>.</summary>
    public Tensor sum(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Sum, dims, keepdim, "sum");

    /// <summary>Sum over one dim.</summary>
    public Tensor sum(long dim, bool keepdim = false) => Reduce(ReduceOp.Sum, [dim], keepdim, "sum");

    /// <summary>Mean of every element.</summary>
    public Tensor mean() => Reduce(ReduceOp.Mean, default, false, "mean");

    /// <summary>Mean over <paramref name="dims"/>.</summary>
    public Tensor mean(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Mean, dims, keepdim, "mean");

    /// <summary>Mean over one dim.</summary>
    public Tensor mean(long dim, bool keepdim = false) => Reduce(ReduceOp.Mean, [dim], keepdim, "mean");

    /// <summary>Maximum of every element.</summary>
    public Tensor max() => Reduce(ReduceOp.Amax, default, false, "max");

    /// <summary>Maximum over <paramref name="dims"/> (values only, like PyTorch's amax).</summary>
    public Tensor amax(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Amax, dims, keepdim, "amax");

    /// <summary>Minimum of every element.</summary>
    public Tensor min() => Reduce(ReduceOp.Amin, default, false, "min");

    /// <summary>Minimum over <paramref name="dims"/>.</summary>
    public Tensor amin(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Amin, dims, keepdim, "amin");

    /// <summary>Product of every element.</summary>
    public Tensor prod() => Reduce(ReduceOp.Prod, default, false, "prod");

    /// <summary>Product over one dim.</summary>
    public Tensor prod(long dim, bool keepdim = false) => Reduce(ReduceOp.Prod, [dim], keepdim, "prod");

    /// <summary>Variance (unbiased by default) of every element.</summary>
    public Tensor var(bool unbiased = true) => Reduce(unbiased ? ReduceOp.Var : ReduceOp.VarPopulation, default, false, "var");

    /// <summary>Variance over <paramref name="dims"/>.</summary>
    public Tensor var(long[] dims, bool unbiased = true, bool keepdim = false) => Reduce(unbiased ? ReduceOp.Var : ReduceOp.VarPopulation, dims, keepdim, "var");

    /// <summary>Standard deviation (unbiased by default) of every element.</summary>
    public Tensor std(bool unbiased = true) => Reduce(unbiased ? ReduceOp.Std : ReduceOp.StdPopulation, default, false, "std");

    /// <summary>Standard deviation over <paramref name="dims"/>.</summary>
    public Tensor std(long[] dims, bool unbiased = true, bool keepdim = false) => Reduce(unbiased ? ReduceOp.Std : ReduceOp.StdPopulation, dims, keepdim, "std");

    /// <summary>log(sum(exp(x))) over <paramref name="dims"/>, computed stably.</summary>
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Reduce(ReduceOp.LogSumExp, dims, keepdim, "logsumexp");

    /// <summary>Euclidean norm of every element.</summary>
    public Tensor norm() => Reduce(ReduceOp.Norm, default, false, "norm");

    /// <summary>Euclidean norm over <paramref name="dims"/>.</summary>
    public Tensor norm(long[] dims, bool keepdim = false) => Reduce(ReduceOp.Norm, dims, keepdim, "norm");

    /// <summary>Whether any element is true (nonzero).</summary>
    public Tensor any() => Reduce(ReduceOp.Any, default, false, "any");

    /// <summary>Whether every element is true (nonzero).</summary>
    public Tensor all() => Reduce(ReduceOp.All, default, false, "all");

    /// <summary>Index of the maximum of the flattened tensor.</summary>
    public Tensor argmax() => Reduce(ReduceOp.ArgMax, default, false, "argmax");

    /// <summary>Indices of the maxima along <paramref name="dim"/>.</summary>
    public Tensor argmax(long dim, bool keepdim = false) => Reduce(ReduceOp.ArgMax, [dim], keepdim, "argmax");

    /// <summary>Indices of the minima along <paramref name="dim"/>.</summary>
    public Tensor argmin(long dim, bool keepdim = false) => Reduce(ReduceOp.ArgMin, [dim], keepdim, "argmin");

    /// <summary>The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/> and their indices.</summary>
    public unsafe (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        IntPtr values, indices;
        NativeMethods.Check(NativeMethods.ad_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, &values, &indices), "topk");
        return (new Tensor(values), new Tensor(indices));
    }
}
