using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Evaluation.Metrics;

/// <summary>Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of one pair of sets.</summary>
/// <param name="Precision">Fraction of generated rows inside at least one real k-NN ball.</param>
/// <param name="Recall">Fraction of real rows inside at least one generated k-NN ball.</param>
/// <param name="Density">Real k-NN balls containing each generated row, averaged and divided by k (1 for identical distributions).</param>
/// <param name="Coverage">Fraction of real k-NN balls that contain at least one generated row.</param>
/// <param name="K">Neighbours defining the ball radii.</param>
/// <param name="RealCount">Real rows.</param>
/// <param name="GeneratedCount">Generated rows.</param>
public sealed record PrdcResult(double Precision, double Recall, double Density, double Coverage, int K, int RealCount, int GeneratedCount);

/// <summary>
/// The k-NN manifold metrics. The ball around each row of a set has as radius the distance to its k-th nearest
/// neighbour in the same set, the row itself excluded (as the reference <c>prdc</c> code does: the (k+1)-th smallest
/// distance with the row's zero distance to itself counted); a point is inside a ball when its distance is strictly
/// smaller than the radius.
/// </summary>
/// <remarks>
/// The k nearest neighbours come from the analyzer's certified exact search (<see cref="NearestNeighbors"/>); the radius
/// is then the largest of those k distances recomputed in float64 by direct differences. Ball membership is decided on
/// all pairs, block by block, from float64 matrix-product distances; pairs whose estimate lies within the product's
/// rounding bound of the radius are decided again by direct float64 differences, so exact copies and ties are judged
/// on exact distances.
/// </remarks>
public static class PrecisionRecallDensityCoverage
{
    /// <summary>Neighbours per ball by default (Naeem et al.'s and Kynkäänniemi et al.'s recommendation).</summary>
    public const int DefaultK = 5;

    /// <summary>Rows each set needs for balls of <paramref name="k"/> neighbours: the row itself and k others.</summary>
    public static int RowsNeeded(int k) => k + 1;

    /// <summary>Rows per block of the all-pairs membership pass.</summary>
    private const int QueryBlock = 1024, BallBlock = 4096;

    /// <summary>PRDC of <paramref name="generated"/> [M, D] against <paramref name="real"/> [N, D] (float32 or float64, same device).</summary>
    public static PrdcResult Compute(Tensor real, Tensor generated, int k = DefaultK, KnnOptions? knn = null)
    {
        if (k < 1) throw new ArgumentException($"PRDC: k = {k}; expected at least 1");
        MetricInputs.CheckPair(real, generated, $"PRDC with k = {k}", minimumRows: RowsNeeded(k));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var realRows = real.to(ScalarType.Float64);
        var generatedRows = generated.to(ScalarType.Float64);
        var realRadii = KthNeighborSquaredRadii(real, realRows, k, knn);
        var generatedRadii = KthNeighborSquaredRadii(generated, generatedRows, k, knn);

        var (generatedInRealBalls, realBallsHit, realInGeneratedBalls) = Membership(generatedRows, realRows, generatedRadii, realRadii);
        double n = real.size(0), m = generated.size(0);
        return new PrdcResult(
            Precision: generatedInRealBalls.Count(c => c > 0) / m,
            Recall: realInGeneratedBalls.Count(inside => inside) / n,
            Density: generatedInRealBalls.Sum() / (k * m),
            Coverage: realBallsHit.Count(hit => hit) / n,
            K: k, RealCount: (int)n, GeneratedCount: (int)m);
    }

    /// <summary>Squared distance (float64) of every row to its k-th nearest other row of the same set.</summary>
    private static double[] KthNeighborSquaredRadii(Tensor rows, Tensor rows64, int k, KnnOptions? knn = null)
    {
        using var scope = torch.NewDisposeScope();
        var n = checked((int)rows.size(0));
        var rows32 = rows.to(ScalarType.Float32);
        var neighbours = NearestNeighbors.Search(rows32, rows32, k, knn, Enumerable.Range(0, n).ToArray());
        var indices = torch.tensor(neighbours.Indices.Select(i => (long)i).ToArray(), device: rows64.device);
        var radii = new double[n];
        var block = Math.Max(1, (int)Math.Min(n, (1L << 24) / Math.Max(1, k * rows64.size(1))));
        for (var start = 0; start < n; start += block)
        {
            using var blockScope = torch.NewDisposeScope();
            var count = Math.Min(block, n - start);
            var gathered = rows64.index_select(0, indices.narrow(0, (long)start * k, (long)count * k)).view(count, k, rows64.size(1));
            var squared = gathered.sub_(rows64.narrow(0, start, count).unsqueeze(1)).square_().sum(2).amax([1]);
            squared.cpu().data<double>().CopyTo(radii, start);
        }
        return radii;
    }

    /// <summary>
    /// One pass over all (generated, real) distances, deciding both memberships of each pair: for every generated row,
    /// how many real balls contain it; for every real ball, whether a generated row is inside; for every real row,
    /// whether it is inside some generated ball.
    /// </summary>
    private static (long[] GeneratedInRealBalls, bool[] RealBallHit, bool[] RealInGeneratedBall) Membership(
        Tensor generated, Tensor real, double[] generatedRadii, double[] realRadii)
    {
        var n = checked((int)generated.size(0));
        var m = checked((int)real.size(0));
        var d = real.size(1);
        var device = real.device;
        var counts = new long[n];
        var hit = new bool[m];
        var covered = new bool[m];
        using var scope = torch.NewDisposeScope();
        // Centring on the real mean shrinks the norms, and so the rounding of |g|² + |r|² − 2 g·r.
        var mean = real.mean([0], keepdim: true);
        var centred = real - mean;
        var realNorms = centred.square().sum(1);
        var maxRealNorm = realNorms.max().item<double>();
        var realRadiiTensor = torch.tensor(realRadii, device: device);
        var generatedRadiiTensor = torch.tensor(generatedRadii, device: device);
        // Rounding bound of the float64 shortcut: 2^-46 (sqrt(D) + 4)(|g|² + max |r|²), generous for a dot product of length D.
        var slackScale = Math.ScaleB(Math.Sqrt(d) + 4, -46);
        for (var gs = 0; gs < n; gs += QueryBlock)
        {
            using var queryScope = torch.NewDisposeScope();
            var gn = Math.Min(QueryBlock, n - gs);
            var g = generated.narrow(0, gs, gn) - mean;
            var generatedNorms = g.square().sum(1, keepdim: true);
            var slack = generatedNorms.add(maxRealNorm).mul(slackScale);
            var ownRadii = generatedRadiiTensor.narrow(0, gs, gn).unsqueeze(1);
            var blockCounts = torch.zeros([gn], ScalarType.Int64, device: device);
            for (var rs = 0; rs < m; rs += BallBlock)
            {
                using var blockScope = torch.NewDisposeScope();
                var rn = Math.Min(BallBlock, m - rs);
                var estimate = torch.matmul(g, centred.narrow(0, rs, rn).transpose(0, 1)).mul_(-2).add_(generatedNorms).add_(realNorms.narrow(0, rs, rn).unsqueeze(0));
                var inReal = Decide(estimate - realRadiiTensor.narrow(0, rs, rn).unsqueeze(0), slack, generated, real, gs, rs, (_, j) => realRadii[rs + j]);
                var inGenerated = Decide(estimate - ownRadii, slack, generated, real, gs, rs, (i, _) => generatedRadii[gs + i]);
                var inRealLong = inReal.to(ScalarType.Int64);
                blockCounts.add_(inRealLong.sum(1));
                var blockHit = inRealLong.sum(0).cpu().data<long>();
                var blockCovered = inGenerated.to(ScalarType.Int64).sum(0).cpu().data<long>();
                for (var j = 0; j < rn; j++)
                {
                    hit[rs + j] |= blockHit[j] > 0;
                    covered[rs + j] |= blockCovered[j] > 0;
                }
            }
            blockCounts.cpu().data<long>().CopyTo(counts, gs);
        }
        return (counts, hit, covered);
    }

    /// <summary>
    /// Inside (distance² − radius² &lt; 0) for a block of <paramref name="margin"/> values; pairs within the rounding
    /// <paramref name="slack"/> of the radius are decided by direct float64 differences.
    /// </summary>
    private static Tensor Decide(Tensor margin, Tensor slack, Tensor generated, Tensor real, int gs, int rs, Func<int, int, double> squaredRadius)
    {
        var inside = margin.lt(slack.neg());
        var unsure = margin.abs().le(slack);
        if (!unsure.any().item<bool>()) return inside;
        var (rows, columns) = ((int)unsure.size(0), (int)unsure.size(1));
        var flags = unsure.to(ScalarType.Byte).cpu().data<byte>();
        var decided = new byte[flags.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                if (flags[(long)i * columns + j] == 0) continue;
                using var scope = torch.NewDisposeScope();
                var squared = (generated.select(0, gs + i) - real.select(0, rs + j)).square_().sum().item<double>();
                if (squared < squaredRadius(i, j)) decided[(long)i * columns + j] = 1;
            }
        }
        return inside.logical_or(torch.tensor(decided, [rows, columns], device: unsure.device).to(ScalarType.Bool));
    }
}
