using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Sampling;

/// <summary>
/// Sampling split across the workers of a data-parallel job, as EDM's generate.py splits seeds: rank r draws seeds
/// r, r + W, r + 2W, ..., the samples are assembled on every rank, and rank 0 writes the one sample set. A sample
/// depends only on its seed, so the set is the same for any number of workers.
/// </summary>
public static class ShardedSampling
{
    /// <summary>Samples <paramref name="seeds"/> with this rank's share and writes the set on rank 0
    /// (a single process just calls <see cref="CheckpointSampler.SampleTo"/>).</summary>
    public static void SampleTo(CheckpointSampler sampler, DataParallel parallel, string directory, IReadOnlyList<ulong> seeds, SamplerOptions options, int batchSize,
        int gridCount = 64, bool singlePngs = false, string? seedsText = null, IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (parallel.WorldSize == 1)
        {
            sampler.SampleTo(directory, seeds, options, batchSize, gridCount, singlePngs, seedsText, progress, cancel);
            return;
        }
        using var scope = torch.NewDisposeScope();
        var mine = parallel.RoundRobin(seeds.Count);
        var local = sampler.Sample(mine.Select(i => seeds[i]).ToList(), options, batchSize, progress, cancel);
        var samples = parallel.AssembleRows(local, mine, seeds.Count);
        if (!parallel.IsPrimary) return;
        var metadata = sampler.Describe(options);
        if (seedsText is not null) metadata["seeds"] = seedsText;
        SampleSet.Write(directory, samples, seeds, metadata, gridCount, singlePngs, sampler.Labels(seeds, options));
    }
}
