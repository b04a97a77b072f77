using System.Numerics;

namespace AmbientDiffusion.Em;

/// <summary>
/// Small dense symmetric positive-definite algebra on row-major double arrays, for the Gaussian's per-observation
/// systems (the torch binding has no Cholesky; these systems are a few hundred rows, one per observation). Rows are
/// traversed contiguously so that the inner products vectorize.
/// </summary>
internal static class DenseCholesky
{
    /// <summary>Factors the n×n matrix <paramref name="a"/> in place: its lower triangle becomes L with L Lᵀ = A (the
    /// upper triangle is left as it was). Throws when A is not positive definite.</summary>
    public static void Factor(Span<double> a, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var rowJ = a.Slice(j * n, n);
            var d = rowJ[j] - Dot(rowJ[..j], rowJ[..j]);
            if (!(d > 0)) throw new InvalidOperationException($"a {n}x{n} system is not positive definite (pivot {j} is {d})");
            d = Math.Sqrt(d);
            rowJ[j] = d;
            for (var i = j + 1; i < n; i++)
            {
                var rowI = a.Slice(i * n, n);
                rowI[j] = (rowI[j] - Dot(rowI[..j], rowJ[..j])) / d;
            }
        }
    }

    /// <summary>Solves L Lᵀ x = b in place in <paramref name="b"/>, with L from <see cref="Factor"/>.</summary>
    public static void Solve(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (var i = 0; i < n; i++) b[i] = (b[i] - Dot(l.Slice(i * n, i), b[..i])) / l[i * n + i];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = b[i];
            for (var k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
            b[i] = s / l[i * n + i];
        }
    }

    /// <summary>A⁻¹ (n×n, full) from L: T = L⁻ᵀ row by row, then A⁻¹[i, j] = Σ_k T[i, k] T[j, k] over k ≥ max(i, j).</summary>
    public static double[] Inverse(ReadOnlySpan<double> l, int n)
    {
        var t = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            var rowT = t.AsSpan(j * n, n);
            rowT[j] = 1 / l[j * n + j];
            for (var i = j + 1; i < n; i++) rowT[i] = -Dot(l.Slice(i * n + j, i - j), rowT[j..i]) / l[i * n + i];
        }
        var inverse = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var v = Dot(t.AsSpan(i * n + i, n - i), t.AsSpan(j * n + i, n - i));
                inverse[i * n + j] = v;
                inverse[j * n + i] = v;
            }
        return inverse;
    }

    /// <summary>Σ a_k b_k, vectorized.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = 0.0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; i <= a.Length - Vector<double>.Count; i += Vector<double>.Count)
                acc += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
