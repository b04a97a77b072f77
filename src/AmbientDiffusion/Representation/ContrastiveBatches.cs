using AmbientDiffusion.Common;

namespace AmbientDiffusion.Representation;

/// <summary>What makes two images positives of each other.</summary>
public enum PositiveKind
{
    /// <summary>Same class label (StableRep with class-conditional generation).</summary>
    Class,

    /// <summary>Same generation group: generated from nearby starting noises of one base noise (GenRep).</summary>
    Group,

    /// <summary>Two augmented views of the same image (SimCLR; the real-image baseline).</summary>
    Instance,
}

/// <summary>One contrastive batch: the image behind each row and the positive id rows share with their positives.</summary>
/// <param name="Images">Index of the image of each row (an image appears twice in <see cref="PositiveKind.Instance"/> batches).</param>
/// <param name="PositiveIds">Rows with equal ids are positives.</param>
public sealed record ContrastiveBatch(long[] Images, long[] PositiveIds);

/// <summary>
/// Builds an epoch's batches so that every row has a positive: each positive set (class or group) is shuffled and cut
/// into chunks of <c>perSet</c> images (a last chunk of one image joins the chunk before it), the chunks are shuffled,
/// and consecutive chunks fill batches of about <c>batchSize</c> rows; sets of one image are left out. Instance batches
/// hold two views of <c>batchSize / 2</c> images. Every image of a usable set appears once per epoch.
/// </summary>
public static class ContrastiveBatches
{
    /// <summary>The batches of epoch <paramref name="epoch"/>, drawn from the (seed, epoch) stream.</summary>
    public static List<ContrastiveBatch> Epoch(long[] setIds, PositiveKind kind, int batchSize, int perSet, ulong seed, int epoch)
    {
        if (batchSize < 2) throw new ArgumentException($"contrastive batch size = {batchSize}: expected at least 2");
        if (perSet < 2) throw new ArgumentException($"positives per set = {perSet}: expected at least 2");
        var random = RandomStreams.For(RandomStream.ContrastiveBatches, seed, (ulong)epoch);
        var chunks = new List<long[]>();
        if (kind == PositiveKind.Instance)
        {
            var order = random.Permutation(setIds.Length);
            for (var start = 0; start < order.Length; start += batchSize / 2)
            {
                var images = order.Skip(start).Take(batchSize / 2).Select(i => (long)i).ToArray();
                chunks.Add(images);
            }
            return chunks.Select(c => new ContrastiveBatch([.. c, .. c], [.. c, .. c])).ToList();
        }
        foreach (var members in Sets(setIds).Values)
        {
            if (members.Count < 2) continue;
            var shuffled = members.ToArray();
            random.Shuffle(shuffled.AsSpan());
            for (var start = 0; start < shuffled.Length;)
            {
                var length = Math.Min(perSet, shuffled.Length - start);
                if (shuffled.Length - start - length == 1) length++; // never leave one image without a positive
                chunks.Add(shuffled.AsSpan(start, length).ToArray());
                start += length;
            }
        }
        if (chunks.Count == 0) throw new ArgumentException($"no {kind.ToString().ToLowerInvariant()} has two or more images: contrastive positives are impossible");
        var chunkOrder = random.Permutation(chunks.Count);
        var batches = new List<ContrastiveBatch>();
        var rows = new List<long>();
        foreach (var c in chunkOrder)
        {
            rows.AddRange(chunks[c]);
            if (rows.Count >= batchSize)
            {
                batches.Add(Batch(rows, setIds));
                rows.Clear();
            }
        }
        if (rows.Count > 0) batches.Add(Batch(rows, setIds));
        return batches;
    }

    private static ContrastiveBatch Batch(List<long> rows, long[] setIds) => new([.. rows], rows.Select(i => setIds[i]).ToArray());

    private static SortedDictionary<long, List<long>> Sets(long[] setIds)
    {
        var sets = new SortedDictionary<long, List<long>>();
        for (var i = 0; i < setIds.Length; i++)
        {
            if (!sets.TryGetValue(setIds[i], out var members)) sets[setIds[i]] = members = [];
            members.Add(i);
        }
        return sets;
    }
}
