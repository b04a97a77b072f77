using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

public class MemorizationKnnTests
{
    /// <summary>Reference answer: float64 distances of every pair, ordered by (distance, index).</summary>
    private static (double[] d2, int[] index) BruteForce(float[] q, float[] r, int n, int m, int d, int k, int[]? exclude = null)
    {
        var distances = new double[n * k];
        var indices = new int[n * k];
        for (var i = 0; i < n; i++)
        {
            var all = new List<(double d2, int j)>();
            for (var j = 0; j < m; j++)
            {
                if (exclude is not null && exclude[i] == j) continue;
                double s = 0;
                for (var c = 0; c < d; c++)
                {
                    var diff = (double)q[i * d + c] - r[j * d + c];
                    s += diff * diff;
                }
                all.Add((s, j));
            }
            var sorted = all.OrderBy(p => p.d2).ThenBy(p => p.j).Take(k).ToArray();
            for (var j = 0; j < k; j++) (distances[i * k + j], indices[i * k + j]) = sorted[j];
        }
        return (distances, indices);
    }

    /// <summary>Small integer values (many exact ties), duplicated reference rows, and queries that copy reference rows.</summary>
    private static (float[] q, float[] r) TiedData(int n, int m, int d, int seed)
    {
        var random = new Random(seed);
        var r = new float[m * d];
        for (var i = 0; i < r.Length; i++) r[i] = random.Next(0, 3);
        foreach (var (dst, src) in new[] { (50, 10), (77, 10), (90, 3), (91, 3), (92, 3) })
            Array.Copy(r, src * d, r, dst * d, d);
        var q = new float[n * d];
        for (var i = 0; i < q.Length; i++) q[i] = random.Next(0, 3);
        Array.Copy(r, 10 * d, q, 0, d);   // an exact copy of a row that has two duplicates
        Array.Copy(r, 3 * d, q, 1 * d, d); // ... and of one with three
        Array.Copy(r, 42 * d, q, 2 * d, d);
        return (q, r);
    }

    private static KnnResult Search(float[] q, float[] r, int n, int m, int d, int k, KnnOptions options, int[]? exclude = null)
    {
        using var scope = torch.NewDisposeScope();
        return NearestNeighbors.Search(torch.tensor(q, [n, d]), torch.tensor(r, [m, d]), k, options, exclude);
    }

    [Fact]
    public void Knn_matches_float64_brute_force_with_duplicates_and_ties()
    {
        const int n = 37, m = 101, d = 13, k = 6;
        var (q, r) = TiedData(n, m, d, 1);
        var (expectedD, expectedI) = BruteForce(q, r, n, m, d, k);
        var result = Search(q, r, n, m, d, k, new KnnOptions { QueryChunk = 8, ReferenceChunk = 16, CandidateMargin = 4 });
        Assert.Equal(expectedI, result.Indices);
        for (var i = 0; i < expectedD.Length; i++) Assert.Equal(expectedD[i], result.SquaredDistances[i], 5);
        Assert.Equal([10, 50, 77], result.Indices[..3]);
        Assert.Equal([0f, 0f, 0f], result.SquaredDistances[..3]);
        Assert.Equal([3, 90, 91, 92], result.Indices[k..(k + 4)]);
    }

    [Fact]
    public void Chunk_sizes_and_margin_do_not_change_the_result()
    {
        const int n = 23, m = 64, d = 9, k = 5;
        var (q, r) = TiedData(n, m + 40, d, 2);
        r = r[..(m * d)]; // keep rows 0..63 only (rows 50 = 10 duplicate stays)
        var reference = Search(q, r, n, m, d, k, new KnnOptions());
        // without a margin the integer ties cannot be certified: those queries take the full exact scan
        Assert.True(Search(q, r, n, m, d, k, new KnnOptions { CandidateMargin = 0 }).ExactFallbacks > 0);
        foreach (var options in new[]
                 {
                     new KnnOptions { QueryChunk = 1, ReferenceChunk = 1, CandidateMargin = 0 },
                     new KnnOptions { QueryChunk = 5, ReferenceChunk = 7, CandidateMargin = 2 },
                     new KnnOptions { QueryChunk = 1000, ReferenceChunk = 3, CandidateMargin = 100, RerankElements = 10 },
                 })
        {
            var result = Search(q, r, n, m, d, k, options);
            Assert.Equal(reference.Indices, result.Indices);
            Assert.Equal(reference.SquaredDistances, result.SquaredDistances);
        }
        var (_, expected) = BruteForce(q, r, n, m, d, k);
        Assert.Equal(expected, reference.Indices);
    }

    [Fact]
    public void Chunk_sizes_do_not_change_float_distances_bit_for_bit()
    {
        const int n = 40, m = 300, d = 50, k = 7;
        var random = new Random(5);
        var r = Enumerable.Range(0, m * d).Select(_ => (float)random.NextDouble()).ToArray();
        var q = Enumerable.Range(0, n * d).Select(_ => (float)random.NextDouble()).ToArray();
        Array.Copy(r, 0, r, 5 * d, d);  // a duplicated row
        Array.Copy(r, 0, q, 0, d);      // and a query that copies it
        var reference = Search(q, r, n, m, d, k, new KnnOptions());
        var (expectedD, expectedI) = BruteForce(q, r, n, m, d, k);
        Assert.Equal(expectedI, reference.Indices);
        for (var i = 0; i < expectedD.Length; i++) Assert.Equal(expectedD[i], reference.SquaredDistances[i], Math.Max(1e-9, expectedD[i] * 1e-5));
        foreach (var options in new[] { new KnnOptions { QueryChunk = 3, ReferenceChunk = 17, CandidateMargin = 0 }, new KnnOptions { QueryChunk = 64, ReferenceChunk = 1, RerankElements = 1 } })
        {
            var result = Search(q, r, n, m, d, k, options);
            Assert.Equal(reference.Indices, result.Indices);
            Assert.Equal(reference.SquaredDistances, result.SquaredDistances);
        }
    }

    [Fact]
    public void Near_copies_are_ranked_by_direct_differences()
    {
        // Large offsets and tiny perturbations: the |a|^2 + |b|^2 - 2ab shortcut alone cannot order these.
        const int m = 50, d = 64;
        var random = new Random(3);
        var r = new float[m * d];
        for (var j = 0; j < m; j++)
        {
            var offset = 200 + random.NextDouble() * 50;
            for (var c = 0; c < d; c++) r[j * d + c] = (float)(offset + random.NextDouble());
        }
        // query 0 = row 7 + 1e-3 noise; rows 8 and 9 are row 7 + 2e-3 and 3e-3 noise
        foreach (var (row, scale) in new[] { (8, 2e-3), (9, 3e-3) })
            for (var c = 0; c < d; c++) r[row * d + c] = r[7 * d + c] + (float)(scale * (c % 2 == 0 ? 1 : -1));
        var q = new float[d];
        for (var c = 0; c < d; c++) q[c] = r[7 * d + c] + (float)(1e-3 * (c % 3 == 0 ? 1 : -1));
        var result = Search(q, r, 1, m, d, 3, new KnnOptions { ReferenceChunk = 16 });
        var (expectedD, expectedI) = BruteForce(q, r, 1, m, d, 3);
        Assert.Equal(expectedI, result.Indices);
        Assert.Equal(7, result.Indices[0]);
        for (var j = 0; j < 3; j++) Assert.Equal(expectedD[j], result.SquaredDistances[j], expectedD[j] * 1e-4);
    }

    [Fact]
    public void Excluded_rows_are_skipped_and_duplicates_still_found()
    {
        const int m = 60, d = 7, k = 4;
        var (_, r) = TiedData(3, 101, d, 4);
        r = r[..(m * d)];
        Array.Copy(r, 10 * d, r, 55 * d, d); // 10 and 50 and 55 are one image
        var queries = new[] { 10, 50, 0, 59 };
        var q = queries.SelectMany(i => r.AsSpan(i * d, d).ToArray()).ToArray();
        var result = Search(q, r, queries.Length, m, d, k, new KnnOptions { ReferenceChunk = 9, CandidateMargin = 1 }, queries);
        var (_, expected) = BruteForce(q, r, queries.Length, m, d, k, queries);
        Assert.Equal(expected, result.Indices);
        Assert.Equal([50, 55], result.Indices[..2]);
        Assert.Equal([10, 55], result.Indices[k..(k + 2)]);
        for (var i = 0; i < queries.Length; i++)
            Assert.DoesNotContain(queries[i], result.Indices[(i * k)..((i + 1) * k)]);
    }

    [Fact]
    public void K_larger_than_the_reference_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Search(new float[4], new float[8], 1, 2, 4, 3, new KnnOptions()));
        Assert.Contains("k = 3", e.Message);
    }
}
