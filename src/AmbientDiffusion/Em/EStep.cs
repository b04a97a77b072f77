using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Em;

/// <summary>Progress of an E-step: observations sampled out of the total.</summary>
public sealed record EStepProgress(int Done, int Total);

/// <summary>The settings of one E-step, from <see cref="EmSettings"/>: samples per observation, rows per posterior call, observations per shard.</summary>
public sealed record EStepPlan(int SamplesPerObservation, int BatchSize, int ShardSize, ulong Seed, int Round);

/// <summary>The shards one process of a data-parallel E-step samples: shard s belongs to rank s mod <see cref="Ranks"/>
/// (round-robin, as sampling seeds are dealt out), so the shares are near equal and a shard's owner never depends on
/// which shards an earlier attempt left. A shard's samples are keyed by observation, so who draws it changes nothing.</summary>
public sealed record EStepShare(int Rank, int Ranks)
{
    /// <summary>One process samples every shard.</summary>
    public static EStepShare Whole { get; } = new(0, 1);

    /// <summary>Whether this process samples shard <paramref name="shard"/>.</summary>
    public bool Owns(int shard) => shard % Ranks == Rank;
}

/// <summary>
/// The E-step of one round: for every observation y_i of the corrupted artifact, K posterior samples, sample s drawn
/// with the seed keyed by (EM seed, round, i, s) (<see cref="RandomStream.EmPosteriorSample"/>). Observations are
/// processed in shards of consecutive indices, each written whole (atomically) as <c>shard-NNNNN.safetensors</c>
/// (uint8 samples [n·K, C, H, W], observation-major) and skipped when present, so an interrupted E-step resumes
/// exactly: a shard's samples depend on nothing but its observations, seeds and prior. For a noiseless observation
/// the exact posterior keeps the observed values, so they are copied into the sample; noisy ones keep the sampler's.
/// </summary>
public static class EStep
{
    /// <summary>Shard file name.</summary>
    public static string ShardFile(int shard) => $"shard-{shard.ToString("D5", CultureInfo.InvariantCulture)}.safetensors";

    /// <summary>Metadata key of the rank that drew a shard in a data-parallel E-step ("1 of 2"; absent for one process).</summary>
    public const string RankKey = "rank";

    /// <summary>Key of the samples in a shard.</summary>
    public const string SamplesKey = "samples";

    /// <summary>The seed of sample <paramref name="sample"/> of observation <paramref name="index"/> in round <paramref name="round"/>.</summary>
    public static ulong SampleSeed(ulong seed, int round, int index, int sample) =>
        RandomStreams.Seed(RandomStream.EmPosteriorSample, seed, (ulong)round, (ulong)index, (ulong)sample);

    /// <summary>Shards of <paramref name="count"/> observations.</summary>
    public static int Shards(int count, int shardSize) => (count + shardSize - 1) / shardSize;

    /// <summary>Samples every missing shard of <paramref name="share"/> (default: all) into <paramref name="folder"/> (at
    /// most <paramref name="shardLimit"/> new ones, for tests of interruption); true when all of its shards are there.
    /// Progress counts the share's observations.</summary>
    public static bool Run(string corruptedPath, IEmPosterior posterior, EStepPlan plan, string folder, IProgress<EStepProgress>? progress = null,
        int shardLimit = int.MaxValue, EStepShare? share = null, CancellationToken cancel = default)
    {
        share ??= EStepShare.Whole;
        using var data = CorruptedDataset.Open(corruptedPath);
        if (data.MaskChannels != 1 && data.Channels != 1)
            throw new InvalidDataException($"{corruptedPath}: per-colour masks ([N, {data.MaskChannels}, H, W]); EM's mask operator takes one mask per image, shared across colours");
        Directory.CreateDirectory(folder);
        var shards = Enumerable.Range(0, Shards(data.Count, plan.ShardSize)).Where(share.Owns)
            .Select(shard => (Index: shard, First: shard * plan.ShardSize, Count: Math.Min(plan.ShardSize, data.Count - shard * plan.ShardSize))).ToList();
        var total = shards.Sum(s => s.Count);
        var (written, before) = (0, 0);
        foreach (var (shard, first, count) in shards)
        {
            var path = Path.Combine(folder, ShardFile(shard));
            var offset = before;
            before += count;
            if (File.Exists(path)) continue;
            if (written == shardLimit || cancel.IsCancellationRequested) return false;
            RunShard(data, posterior, plan, share, first, count, path, done => progress?.Report(new EStepProgress(offset + done, total)), cancel);
            if (cancel.IsCancellationRequested && !File.Exists(path)) return false;
            written++;
        }
        progress?.Report(new EStepProgress(total, total));
        return true;
    }

    /// <summary>Seconds the shards of <paramref name="folder"/> took to sample, summed over every attempt that wrote one.</summary>
    public static double Seconds(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "shard-*.safetensors").Sum(path =>
        {
            using var file = SafeTensors.Open(path);
            return double.Parse(file.Metadata["seconds"], CultureInfo.InvariantCulture);
        }) : 0;

    /// <summary>All samples of <paramref name="shards"/> shards in order, uint8 [N·K, C, H, W].</summary>
    public static Tensor Read(string folder, int shards)
    {
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (var shard = 0; shard < shards; shard++)
        {
            using var file = SafeTensors.Open(Path.Combine(folder, ShardFile(shard)));
            parts.Add(file.GetTensor(SamplesKey));
        }
        return scope.MoveToOuter(torch.cat(parts, 0));
    }

    private static void RunShard(CorruptedDataset data, IEmPosterior posterior, EStepPlan plan, EStepShare share, int first, int count, string path, Action<int> report, CancellationToken cancel)
    {
        using var scope = torch.NewDisposeScope();
        var watch = Stopwatch.StartNew();
        var (c, h, w) = (data.Channels, data.Height, data.Width);
        var (pixels, plane) = (c * h * w, h * w);
        var k = plan.SamplesPerObservation;
        // Rows are (observation, sample) pairs, observation-major, cut into batches of the sampler's batch size.
        var rows = Enumerable.Range(0, count * k).Select(r => (Index: first + r / k, Sample: r % k)).ToList();
        var parts = new List<Tensor>();
        var observation = new float[pixels];
        var mask = new float[plane];
        for (var start = 0; start < rows.Count; start += plan.BatchSize)
        {
            if (cancel.IsCancellationRequested) return;
            using var batchScope = torch.NewDisposeScope();
            var batch = rows.Skip(start).Take(plan.BatchSize).ToList();
            var y = new double[batch.Count * pixels];
            var m = new double[batch.Count * plane];
            var sigmas = new double[batch.Count];
            for (var b = 0; b < batch.Count; b++)
            {
                data.ReadSample(batch[b].Index, observation, mask);
                for (var i = 0; i < pixels; i++) y[b * pixels + i] = observation[i];
                for (var i = 0; i < plane; i++) m[b * plane + i] = mask[i];
                sigmas[b] = data.NoiseSigma(batch[b].Index);
            }
            var seeds = batch.Select(r => SampleSeed(plan.Seed, plan.Round, r.Index, r.Sample)).ToList();
            var yTensor = torch.tensor(y, [batch.Count, c, h, w]);
            var masks = torch.tensor(m, [batch.Count, 1, h, w]);
            var x = posterior.Sample(yTensor, masks, sigmas, seeds);
            if (FiniteValues.Problem(x) is { } problem)
                throw new InvalidDataException($"{data.Path}: the E-step's posterior samples of observations {batch[0].Index}-{batch[^1].Index} ({posterior.Describe()}) gave {problem}: the sampler diverged; nothing was written for this shard");
            // The exact posterior of a noiseless observation keeps its observed values.
            var keep = masks * torch.tensor(sigmas.Select(s => s == 0 ? 1.0 : 0.0).ToArray(), [batch.Count, 1, 1, 1]);
            x = keep * yTensor + (1 - keep) * x;
            parts.Add(batchScope.MoveToOuter(EdmSampler.ToBytes(x)));
            report(Math.Min(count, (start + batch.Count) / k));
        }
        var metadata = new Dictionary<string, string>
        {
            ["first"] = first.ToString(CultureInfo.InvariantCulture),
            ["count"] = count.ToString(CultureInfo.InvariantCulture),
            ["samples_per_observation"] = k.ToString(CultureInfo.InvariantCulture),
            ["round"] = plan.Round.ToString(CultureInfo.InvariantCulture),
            ["posterior"] = posterior.Describe(),
            ["seconds"] = watch.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
        };
        // Which rank of a data-parallel E-step drew it (its samples are the same whoever draws them).
        if (share.Ranks > 1) metadata[RankKey] = $"{share.Rank} of {share.Ranks}";
        SafeTensors.Save(path, [new KeyValuePair<string, Tensor>(SamplesKey, torch.cat(parts, 0))], metadata);
    }
}
