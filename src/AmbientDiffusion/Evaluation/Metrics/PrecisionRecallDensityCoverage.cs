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

    /// <summary>Rows per block of the all-pairs membership pass.</summary>
    private const int QueryBlock = 1024, BallBlock = 4096;

    /// <summary>PRDC of <paramref name="generated"/> [M, D] against <paramref name="real"/> [N, D] (float32 or float64, same device).</summary>
    public static PrdcResult Compute(Tensor real, Tensor generated, int k = DefaultK, KnnOptions? knn = null)
    {
        if (k < 1) throw new ArgumentException($"PRDC: k = {k}; expected at least 1");
        MetricInputs.CheckPair(real, generated, $"PRDC with k = {k}", minimumRows: k + 1);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var realRows = real.to(ScalarType.Float64);
        var generatedRows = generated.to(ScalarType.Float64);
        var realRadii = KthNeighborSquaredRadii(real, realRows, k, knn);
        var generatedRadii = KthNeighborSquaredRadii(generated, generatedRows, k, knn);

        var (generatedInRealBalls, realBallsHit) = Membership(generatedRows, realRows, realRadii);
        var (realInGeneratedBalls, _) = Membership(realRows, generatedRows, generatedRadii);
        double n = real.size(0), m = generated.size(0);
        return new PrdcResult(
            Precision: generatedInRealBalls.Count(c => c > 0) / m,
            Recall: realInGeneratedBalls.Count(c => c > 0) / n,
            Density: generatedInRealBalls.Sum() / (k * m),
            Coverage: realBallsHit.Count(hit => hit) / n,
            K: k, RealCount: (int)n, GeneratedCount: (int)m);
    }

    /// <summary>Squared distance (float64) of every row to its k-th nearest other row of the same set.</summary>
    public static double[] KthNeighborSquaredRadii(Tensor rows, Tensor rows64, int k, KnnOptions? knn = null)
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
    /// For every query, how many balls (centres with squared radii) contain it; for every ball, whether any query is
    /// inside it.
    /// </summary>
    private static (long[] ContainingBalls, bool[] BallHit) Membership(Tensor queries, Tensor centres, double[] squaredRadii)
    {
        var n = checked((int)queries.size(0));
        var m = checked((int)centres.size(0));
        var d = centres.size(1);
        var device = centres.device;
        var counts = new long[n];
        var hit = new bool[m];
        using var scope = torch.NewDisposeScope();
        // Centring on the centres' mean shrinks the norms, and so the rounding of |q|² + |c|² − 2 q·c.
        var mean = centres.mean([0], keepdim: true);
        var centred = centres - mean;
        var centreNorms = centred.square().sum(1);
        var maxCentreNorm = centreNorms.max().item<double>();
        var radii = torch.tensor(squaredRadii, device: device);
        // Rounding bound of the float64 shortcut: 2^-46 (sqrt(D) + 4)(|q|² + max |c|²), generous for a dot product of length D.
        var slackScale = Math.ScaleB(Math.Sqrt(d) + 4, -46);
        for (var qs = 0; qs < n; qs += QueryBlock)
        {
            using var queryScope = torch.NewDisposeScope();
            var qn = Math.Min(QueryBlock, n - qs);
            var q = queries.narrow(0, qs, qn) - mean;
            var queryNorms = q.square().sum(1, keepdim: true);
            var slack = queryNorms.add(maxCentreNorm).mul(slackScale);
            var blockCounts = torch.zeros([qn], ScalarType.Int64, device: device);
            for (var cs = 0; cs < m; cs += BallBlock)
            {
                using var blockScope = torch.NewDisposeScope();
                var cn = Math.Min(BallBlock, m - cs);
                var estimate = torch.matmul(q, centred.narrow(0, cs, cn).transpose(0, 1)).mul_(-2).add_(queryNorms).add_(centreNorms.narrow(0, cs, cn).unsqueeze(0));
                var margin = estimate - radii.narrow(0, cs, cn).unsqueeze(0);
                var inside = margin.lt(slack.neg());
                var unsure = margin.abs().le(slack);
                if (unsure.any().item<bool>()) inside = inside.logical_or(Recheck(queries, centres, squaredRadii, qs, cs, unsure));
                blockCounts.add_(inside.to(ScalarType.Int64).sum(1));
                var blockHit = inside.to(ScalarType.Int64).sum(0).cpu().data<long>();
                for (var j = 0; j < cn; j++) hit[cs + j] |= blockHit[j] > 0;
            }
            blockCounts.cpu().data<long>().CopyTo(counts, qs);
        }
        return (counts, hit);
    }

    /// <summary>Membership of the pairs flagged <paramref name="unsure"/>, from direct float64 differences.</summary>
    private static Tensor Recheck(Tensor queries, Tensor centres, double[] squaredRadii, int qs, int cs, Tensor unsure)
    {
        var (rows, columns) = ((int)unsure.size(0), (int)unsure.size(1));
        var flags = unsure.to(ScalarType.Byte).cpu().data<byte>();
        var decided = new byte[flags.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                if (flags[(long)i * columns + j] == 0) continue;
                using var scope = torch.NewDisposeScope();
                var squared = (queries.select(0, qs + i) - centres.select(0, cs + j)).square_().sum().item<double>();
                if (squared < squaredRadii[cs + j]) decided[(long)i * columns + j] = 1;
            }
        }
        return torch.tensor(decided, [rows, columns], device: unsure.device).to(ScalarType.Bool);
    }
}
