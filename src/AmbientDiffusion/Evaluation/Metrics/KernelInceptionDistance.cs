using AmbientDiffusion.Memorization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>One subset pair of the KID average: rows of the first set and rows of the second set.</summary>
/// <param name="First">Row indices into the first set (distinct).</param>
/// <param name="Second">Row indices into the second set (distinct).</param>
public sealed record KidSubset(int[] First, int[] Second);

/// <summary>A KID estimate: the mean of the per-subset unbiased MMD² values and their (population) standard deviation.</summary>
/// <param name="Mean">Mean over subsets.</param>
/// <param name="Std">Standard deviation over subsets (ddof 0, as torch-fidelity reports it).</param>
/// <param name="Subsets">Number of subsets.</param>
/// <param name="SubsetSize">Rows drawn from each set per subset.</param>
public sealed record KidEstimate(double Mean, double Std, int Subsets, int SubsetSize);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of MMD² with the cubic polynomial kernel
/// k(x, y) = (x·y / d + 1)³, averaged over random subsets of equal size drawn without replacement from each set, as the
/// StyleGAN/EDM metrics code and torch-fidelity compute it. Computed in float64.
/// </summary>
public static class KernelInceptionDistance
{
    /// <summary>Subsets averaged by default (StyleGAN, torch-fidelity).</summary>
    public const int DefaultSubsets = 100;

    /// <summary>Largest subset size by default (StyleGAN, torch-fidelity); smaller sets use their own size.</summary>
    public const int DefaultMaxSubsetSize = 1000;

    /// <summary>Rows each set needs: the unbiased estimate leaves out the diagonal, so a subset holds at least two.</summary>
    public const int MinimumRows = 2;

    /// <summary>
    /// The unbiased MMD² between all rows of <paramref name="x"/> [m, D] and <paramref name="y"/> [n, D]:
    /// Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (n(n−1)) − 2 Σ k(x_i, y_j) / (mn).
    /// </summary>
    public static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        MetricInputs.CheckPair(x, y, "KID", minimumRows: MinimumRows);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = x.to(ScalarType.Float64);
        var b = y.to(ScalarType.Float64);
        var d = (double)a.size(1);
        double m = a.size(0), n = b.size(0);
        return OffDiagonalSum(a, d) / (m * (m - 1)) + OffDiagonalSum(b, d) / (n * (n - 1))
            - 2 * Kernel(a, b, d).sum().item<double>() / (m * n);
    }

    /// <summary>
    /// The seeded subset schedule: <paramref name="subsets"/> pairs of min(<paramref name="maxSubsetSize"/>, n_first,
    /// n_second) distinct rows from each set, subset s drawn by partial Fisher-Yates from
    /// <see cref="SeededRandom"/>(seed, s, side).
    /// </summary>
    public static IReadOnlyList<KidSubset> Schedule(int firstCount, int secondCount, ulong seed, int subsets = DefaultSubsets, int maxSubsetSize = DefaultMaxSubsetSize)
    {
        if (subsets < 1) throw new ArgumentException($"KID subsets {subsets}: expected at least 1");
        if (maxSubsetSize < MinimumRows) throw new ArgumentException($"KID subset size {maxSubsetSize}: expected at least {MinimumRows}");
        var size = Math.Min(maxSubsetSize, Math.Min(firstCount, secondCount));
        if (size < MinimumRows) throw new ArgumentException($"KID needs at least {MinimumRows} rows in each set, got {firstCount} and {secondCount}");
        var schedule = new KidSubset[subsets];
        for (var s = 0; s < subsets; s++)
            schedule[s] = new KidSubset(Draw(firstCount, size, RandomStreams.For(RandomStream.KidSubsets, seed, (ulong)s, 0)), Draw(secondCount, size, RandomStreams.For(RandomStream.KidSubsets, seed, (ulong)s, 1)));
        return schedule;
    }

    /// <summary>KID between <paramref name="first"/> and <paramref name="second"/> with the seeded schedule of <see cref="Schedule"/>.</summary>
    public static KidEstimate Compute(Tensor first, Tensor second, ulong seed, int subsets = DefaultSubsets, int maxSubsetSize = DefaultMaxSubsetSize)
    {
        MetricInputs.CheckPair(first, second, "KID", minimumRows: MinimumRows);
        return Compute(first, second, Schedule((int)first.size(0), (int)second.size(0), seed, subsets, maxSubsetSize));
    }

    /// <summary>KID over an explicit subset schedule (each pair the same size).</summary>
    public static KidEstimate Compute(Tensor first, Tensor second, IReadOnlyList<KidSubset> schedule)
    {
        MetricInputs.CheckPair(first, second, "KID", minimumRows: MinimumRows);
        if (schedule.Count == 0) throw new ArgumentException("KID needs at least one subset");
        var size = schedule[0].First.Length;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = first.to(ScalarType.Float64);
        var b = second.to(ScalarType.Float64);
        var values = new double[schedule.Count];
        // A subset as large as both sets is both sets whatever the draw: one MMD² stands for all of them.
        var whole = size == a.size(0) && size == b.size(0);
        for (var s = 0; s < schedule.Count; s++)
        {
            var subset = schedule[s];
            if (subset.First.Length != size || subset.Second.Length != size)
                throw new ArgumentException($"KID subset {s} has {subset.First.Length} and {subset.Second.Length} rows, subset 0 has {size}; all must match");
            if (whole && s > 0) { values[s] = values[0]; continue; }
            using var subsetScope = torch.NewDisposeScope();
            values[s] = UnbiasedMmd2(a.index_select(0, Indices(subset.First, a.size(0))), b.index_select(0, Indices(subset.Second, b.size(0))));
        }
        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return new KidEstimate(mean, std, values.Length, size);
    }

    private static Tensor Kernel(Tensor a, Tensor b, double d) => torch.matmul(a, b.transpose(0, 1)).div_(d).add_(1).pow_(3);

    /// <summary>Σ_{i≠j} k(x_i, x_j): the whole kernel matrix less its diagonal k(x_i, x_i) = (|x_i|²/d + 1)³.</summary>
    private static double OffDiagonalSum(Tensor x, double d) =>
        Kernel(x, x, d).sum().item<double>() - x.square().sum(1).div(d).add(1).pow(3).sum().item<double>();

    private static int[] Draw(int count, int size, SeededRandom random)
    {
        var pool = new int[count];
        for (var i = 0; i < count; i++) pool[i] = i;
        for (var i = 0; i < size; i++)
        {
            var j = i + random.NextInt(count - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..size];
    }

    private static Tensor Indices(int[] rows, long count)
    {
        foreach (var row in rows)
            if (row < 0 || row >= count) throw new ArgumentException($"KID subset row {row} is outside the set of {count} rows");
        return torch.tensor(rows.Select(r => (long)r).ToArray());
    }
}
