using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>Chunk sizes and candidate margin of the exact nearest-neighbour search.</summary>
public sealed record KnnOptions
{
    /// <summary>Queries per block: bounds the [queries x reference] distance block together with <see cref="ReferenceChunk"/>.</summary>
    public int QueryChunk { get; init; } = 1024;

    /// <summary>Reference rows per block.</summary>
    public int ReferenceChunk { get; init; } = 8192;

    /// <summary>Candidates kept beyond k before the exact re-ranking (they absorb the rounding of the matmul shortcut).</summary>
    public int CandidateMargin { get; init; } = 32;

    /// <summary>Elements of the float32 block gathered by the exact re-ranking (bounds its memory: 4 bytes each).</summary>
    public long RerankElements { get; init; } = 1L << 24;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(QueryChunk >= 1, "query_chunk", QueryChunk, "at least 1 query");
        SettingException.Check(ReferenceChunk >= 1, "reference_chunk", ReferenceChunk, "at least 1 reference row");
        SettingException.Check(CandidateMargin >= 0, "candidate_margin", CandidateMargin, "at least 0");
        SettingException.Check(RerankElements >= 1, "rerank_elements", RerankElements, "at least 1 element");
    }
}

/// <summary>
/// The k nearest reference rows of every query, nearest first, as squared L2 distances (float32, computed by direct
/// differences) and reference indices. Ties are ordered by lower reference index.
/// </summary>
public sealed class KnnResult
{
    internal KnnResult(int queries, int k, float[] squaredDistances, int[] indices, int fallbacks)
    {
        (Queries, K, SquaredDistances, Indices, ExactFallbacks) = (queries, k, squaredDistances, indices, fallbacks);
    }

    /// <summary>Number of queries.</summary>
    public int Queries { get; }

    /// <summary>Neighbours per query.</summary>
    public int K { get; }

    /// <summary>Row-major [Queries, K] squared distances, ascending per row.</summary>
    public float[] SquaredDistances { get; }

    /// <summary>Row-major [Queries, K] reference indices.</summary>
    public int[] Indices { get; }

    /// <summary>Queries whose candidate set could not be certified and were searched by a full exact scan.</summary>
    public int ExactFallbacks { get; }

    /// <summary>Squared distance of query <paramref name="query"/> to its <paramref name="rank"/>-th neighbour (0 = nearest).</summary>
    public float SquaredDistance(int query, int rank) => SquaredDistances[query * K + rank];

    /// <summary>Reference index of query <paramref name="query"/>'s <paramref name="rank"/>-th neighbour.</summary>
    public int Index(int query, int rank) => Indices[query * K + rank];
}

/// <summary>
/// Exact k-nearest-neighbour search in squared L2 distance, on the device the tensors live on.
/// </summary>
/// <remarks>
/// <para>Two passes per block of queries. (1) Candidates: the reference set is walked in chunks, squared distances are
/// estimated with the matrix-product shortcut |q|^2 + |r|^2 - 2 q.r (after centring both sides on the reference mean,
/// which shrinks the norms and so the cancellation), and the k + margin smallest estimates are kept. (2) Re-ranking:
/// the candidates whose estimate lies within 2s (below) of the k-th smallest estimate (at least k of them, the same
/// number for the whole block) get their distances recomputed from direct float32 differences (squared and summed in
/// float32), and are ordered by (distance, index).</para>
/// <para>s bounds the shortcut's rounding error: 2^-19 (sqrt(D) + 4) (|q|^2 + max |r|^2), a few times the typical
/// error of a float32 dot product of length D. The shortcut loses all precision for near copies, so the result is
/// certified per query: every row that was not re-ranked has an estimate of at least b (the smallest estimate left
/// out), so a true distance above b - s. When the k-th re-ranked distance is below b - s the answer is exact;
/// otherwise (only with many near-ties, e.g. duplicated reference rows) the query is searched again by a full exact
/// scan. The result therefore does not depend on the chunk sizes.</para>
/// <para>Memory on the device: the reference rows, a centred copy of them with one extra column (M x (D + 1) float32),
/// one [QueryChunk x ReferenceChunk] block of estimates and a re-ranking block of RerankElements floats. On CUDA the
/// product must run in full float32: TF32 would void the error bound (the analyzer turns TF32 off).</para>
/// </remarks>
public static class NearestNeighbors
{
    /// <summary>
    /// The <paramref name="k"/> nearest rows of <paramref name="reference"/> (float32 [M, D]) to each row of
    /// <paramref name="queries"/> (float32 [N, D], same device). <paramref name="excludeReference"/> (one entry per
    /// query, or null) names a reference row each query must not match (itself, for train-to-train baselines; -1 for none).
    /// </summary>
    public static KnnResult Search(Tensor queries, Tensor reference, int k, KnnOptions? options = null, IReadOnlyList<int>? excludeReference = null)
    {
        options ??= new KnnOptions();
        options.Validate();
        if (queries.dtype != ScalarType.Float32 || reference.dtype != ScalarType.Float32 || queries.dim() != 2 || reference.dim() != 2)
            throw new ArgumentException($"k-NN needs float32 [N, D] queries and [M, D] reference, got {queries} and {reference}");
        var n = checked((int)queries.size(0));
        var m = checked((int)reference.size(0));
        var d = reference.size(1);
        if (queries.size(1) != d) throw new ArgumentException($"k-NN: queries have {queries.size(1)} features, the reference {d}");
        if (excludeReference is not null && excludeReference.Count != n)
            throw new ArgumentException($"k-NN: {excludeReference.Count} excluded indices for {n} queries");
        var available = m - (excludeReference is null ? 0 : 1);
        if (k < 1 || k > available) throw new ArgumentException($"k-NN: k = {k} but only {available} reference rows are available");

        var squared = new float[(long)n * k];
        var indices = new int[(long)n * k];
        var fallbacks = 0;
        if (n == 0) return new KnnResult(0, k, squared, indices, 0);

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = reference.device;
        // The shortcut runs on rows centred on the reference mean (smaller norms, less cancellation), folded into one
        // product: [q - mu, 1] . [-2 (r - mu), |r - mu|^2] = |r - mu|^2 - 2 (q - mu).(r - mu), which is the squared
        // distance less |q - mu|^2, a per-query constant that does not change the query's ranking. No elementwise pass
        // over the [queries x reference] block is needed. The exact re-ranking uses the rows as given, so that equal
        // inputs give equal distances.
        var mean = reference.mean(0, keepdim: true);
        var augmented = torch.empty([m, d + 1], device: device);
        for (var rs = 0; rs < m; rs += options.ReferenceChunk)
        {
            using var partScope = torch.NewDisposeScope();
            var rm = Math.Min(options.ReferenceChunk, m - rs);
            var centredChunk = reference.narrow(0, rs, rm) - mean;
            var target = augmented.narrow(0, rs, rm);
            target.narrow(1, 0, d).copy_(centredChunk.mul(-2));
            target.narrow(1, d, 1).copy_(centredChunk.square().sum(1, keepdim: true));
        }
        var maxReferenceNorm = augmented.narrow(1, d, 1).max().item<double>();
        var candidates = Math.Min(k + options.CandidateMargin, m);
        var slackScale = Math.ScaleB(Math.Sqrt(d) + 4, -19);

        for (var start = 0; start < n; start += options.QueryChunk)
        {
            using var blockScope = torch.NewDisposeScope();
            var count = Math.Min(options.QueryChunk, n - start);
            var original = queries.narrow(0, start, count).to(device);
            var q = original - mean;
            var queryNorms = q.square().sum(1);
            var qAugmented = torch.cat([q, torch.ones([count, 1], device: device)], 1);
            Tensor? exclude = null;
            if (excludeReference is not null)
            {
                var rows = new long[count];
                for (var i = 0; i < count; i++) rows[i] = excludeReference[start + i];
                exclude = torch.tensor(rows, device: device).unsqueeze(1);
            }

            // (1) candidates from the matmul shortcut, merged chunk by chunk
            Tensor? bestValues = null, bestIndices = null;
            for (var rs = 0; rs < m; rs += options.ReferenceChunk)
            {
                var rm = Math.Min(options.ReferenceChunk, m - rs);
                var estimate = torch.matmul(qAugmented, augmented.narrow(0, rs, rm).transpose(0, 1));
                if (exclude is not null)
                    estimate = estimate.masked_fill(exclude.eq(torch.arange(rs, rs + rm, device: device).unsqueeze(0)), double.PositiveInfinity);
                var (values, local) = estimate.topk(Math.Min(candidates, rm), 1, largest: false, sorted: false);
                var global = local.add(torch.scalar_tensor(rs, ScalarType.Int64, device)); // a double scalar would promote to float
                if (bestValues is null)
                {
                    (bestValues, bestIndices) = (values, global);
                }
                else
                {
                    var allValues = torch.cat([bestValues, values], 1);
                    var allIndices = torch.cat([bestIndices!, global], 1);
                    var keep = Math.Min(candidates, allValues.size(1));
                    var (merged, position) = allValues.topk(keep, 1, largest: false, sorted: false);
                    (bestValues, bestIndices) = (merged, allIndices.gather(1, position));
                }
            }
            var kept = checked((int)bestIndices!.size(1));
            var (sortedValues, order) = bestValues!.topk(kept, 1, largest: false, sorted: true);
            var sortedIndices = bestIndices.gather(1, order);
            var estimates = sortedValues.to(ScalarType.Float64).cpu().data<double>(); // squared distance less |q - mu|^2
            var queryNormValues = queryNorms.to(ScalarType.Float64).cpu().data<double>();

            // (2) exact re-ranking by direct differences, of the candidates that can still be among the k nearest:
            // those whose estimate is within twice the error bound of the k-th smallest estimate (at least k of them).
            var slack = new double[count];
            var ranked = k;
            for (var i = 0; i < count; i++)
            {
                slack[i] = slackScale * (queryNormValues[i] + maxReferenceNorm);
                var cutoff = estimates[(long)i * kept + k - 1] + 2 * slack[i];
                var within = k;
                while (within < kept && estimates[(long)i * kept + within] <= cutoff) within++;
                ranked = Math.Max(ranked, within);
            }
            var exact = Rerank(original, reference, sortedIndices.narrow(1, 0, ranked), ranked, d, options.RerankElements);
            var candidateIndices = sortedIndices.narrow(1, 0, ranked).contiguous().cpu().data<long>();

            var row = new (float distance, int index)[ranked];
            for (var i = 0; i < count; i++)
            {
                var self = excludeReference?[start + i] ?? -1;
                var filled = 0;
                for (var j = 0; j < ranked; j++)
                {
                    var index = (int)candidateIndices[(long)i * ranked + j];
                    if (index != self) row[filled++] = (exact[(long)i * ranked + j], index);
                }
                var span = row.AsSpan(0, filled);
                span.Sort(Compare);
                // Every row not re-ranked (a candidate past `ranked`, or a row that never became a candidate) has an
                // estimate of at least `bound`, so a true squared distance above bound - slack.
                var bound = (ranked < kept ? estimates[(long)i * kept + ranked] : estimates[(long)i * kept + kept - 1]) + queryNormValues[i];
                var certified = (kept >= m && ranked == kept) || (filled >= k && bound - slack[i] > span[k - 1].distance);
                var output = (long)(start + i) * k;
                if (certified)
                {
                    for (var j = 0; j < k; j++) (squared[output + j], indices[output + j]) = span[j];
                }
                else
                {
                    fallbacks++;
                    var full = FullScan(original.narrow(0, i, 1), reference, options.ReferenceChunk, self, k);
                    for (var j = 0; j < k; j++) (squared[output + j], indices[output + j]) = full[j];
                }
            }
        }
        return new KnnResult(n, k, squared, indices, fallbacks);
    }

    private static int Compare((float distance, int index) a, (float distance, int index) b)
    {
        var c = a.distance.CompareTo(b.distance);
        return c != 0 ? c : a.index.CompareTo(b.index);
    }

    /// <summary>Squared distances of each query to its candidate rows, from float32 differences.</summary>
    private static float[] Rerank(Tensor q, Tensor reference, Tensor candidateIndices, int kept, long d, long blockElements)
    {
        var count = checked((int)q.size(0));
        var result = new float[(long)count * kept];
        var rows = (int)Math.Clamp(blockElements / Math.Max(1, kept * d), 1, count);
        for (var start = 0; start < count; start += rows)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(rows, count - start);
            var index = candidateIndices.narrow(0, start, length).reshape(-1);
            var gathered = reference.index_select(0, index).view(length, kept, d);
            var squared = gathered.sub_(q.narrow(0, start, length).unsqueeze(1)).square_().sum(2);
            squared.cpu().data<float>().CopyTo(result, (long)start * kept);
        }
        return result;
    }

    // Every exact distance is one float32 reduction over the last, contiguous dimension of length D: libtorch's CPU
    // reduction splits such work across rows, never inside one, so a row's sum does not depend on how many rows are
    // reduced together (chunk sizes) and exact duplicates give bit-identical distances.
    private static Tensor SquaredDifferenceSum(Tensor a, Tensor b, long dim) => (a - b).square_().sum(dim);

    /// <summary>The k nearest rows to one query by an exact scan of the whole reference set.</summary>
    private static (float, int)[] FullScan(Tensor query, Tensor reference, int chunk, int self, int k)
    {
        var m = checked((int)reference.size(0));
        var all = new (float distance, int index)[m];
        for (var start = 0; start < m; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(chunk, m - start);
            var values = SquaredDifferenceSum(reference.narrow(0, start, length), query, 1).cpu().data<float>();
            for (var j = 0; j < length; j++) all[start + j] = (values[j], start + j);
        }
        if (self >= 0) all[self] = (float.PositiveInfinity, int.MaxValue);
        Array.Sort(all, Compare);
        return all[..k];
    }
}
