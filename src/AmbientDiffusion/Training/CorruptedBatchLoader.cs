using System.Collections.Concurrent;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Training;

/// <summary>
/// Seeded, shuffled minibatches from a corrupted dataset, prepared on a background thread so training does not
/// wait on data. The sample stream is a function of (seed, position) alone: epoch e visits the images in a
/// permutation keyed by (seed, e), batches run across epoch boundaries, and each sample's horizontal flip is keyed by
/// its position. So a loader started at batch k yields exactly what an uninterrupted one yields from batch k on
/// (exact resume), whatever the prefetch depth. A flip mirrors the observation and its mask together: flipping only
/// the image would misplace the mask and leak never-observed positions into the loss. For class-conditional models
/// (<see cref="LabelConditioning"/>) each position's label dropout is keyed the same way, so it too is the same for any
/// number of workers and any resume point.
/// </summary>
public sealed class CorruptedBatchLoader : IDisposable
{
    private readonly CorruptedDataset _data;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private readonly bool _flip;
    private readonly int _shardIndex;
    private readonly int _shardCount;
    private readonly LabelConditioning? _conditioning;
    private readonly BlockingCollection<HostBatch> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private Exception? _failure;

    private sealed record HostBatch(float[] Observations, float[] Masks, float[] Sigmas, int[] Indices, long[] Positions, long[]? Labels, long[]? ConditioningIds);

    /// <summary>Starts prefetching from batch <paramref name="startBatch"/>. With <paramref name="shardCount"/> workers, each
    /// global batch is <paramref name="shardCount"/> × <paramref name="batchSize"/> images in the single-worker order, and this
    /// loader yields slice <paramref name="shardIndex"/> of it: the data order is the same for any number of workers.
    /// With <paramref name="conditioning"/>, batches carry the one-hot class conditioning of a class-conditional model.</summary>
    public CorruptedBatchLoader(CorruptedDataset data, int batchSize, ulong seed, bool horizontalFlip = true, long startBatch = 0, int prefetch = 2,
        int shardIndex = 0, int shardCount = 1, LabelConditioning? conditioning = null)
    {
        if (conditioning is not null) CheckLabels(data, conditioning);
        _conditioning = conditioning;
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount)
            throw new ArgumentOutOfRangeException(nameof(shardIndex), shardIndex, $"shard index must lie in 0..{shardCount - 1}");
        (_shardIndex, _shardCount) = (shardIndex, shardCount);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "prefetch depth must be at least 1");
        if (startBatch < 0) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, "start batch must be >= 0");
        (_data, _batchSize, _seed, _flip) = (data, batchSize, seed, horizontalFlip);
        NextBatch = startBatch;
        _queue = new BlockingCollection<HostBatch>(prefetch);
        _worker = new Thread(() => Produce(startBatch)) { IsBackground = true, Name = "corrupted-batch-prefetch" };
        _worker.Start();
    }

    /// <summary>Index of the batch the next <see cref="Next"/> returns (what a checkpoint stores to resume).</summary>
    public long NextBatch { get; private set; }

    /// <summary>Images per batch.</summary>
    public int BatchSize => _batchSize;

    /// <summary>Dataset index and flip of the sample at stream position <paramref name="position"/>.</summary>
    public (int index, bool flipped) SampleAt(long position)
    {
        var epoch = position / _data.Count;
        var permutation = Permutation(epoch);
        var flipped = _flip && RandomStreams.For(RandomStream.Flip, _seed, (ulong)position).NextBernoulli(0.5);
        return (permutation[position % _data.Count], flipped);
    }

    /// <summary>Whether the label of the sample at stream position <paramref name="position"/> is replaced by the null label.</summary>
    public bool LabelDroppedAt(long position) =>
        _conditioning is { LabelDropout: > 0 } c && RandomStreams.For(RandomStream.LabelDropout, _seed, (ulong)position).NextBernoulli(c.LabelDropout);

    private static void CheckLabels(CorruptedDataset data, LabelConditioning conditioning)
    {
        if (conditioning.LabelDim < 1) throw new ArgumentOutOfRangeException(nameof(conditioning), conditioning.LabelDim, "a class-conditional model needs a label dimension of at least 1");
        if (data.Labels is null)
            throw new InvalidDataException($"{data.Path}: the data has no class labels, but the model is class-conditional ({conditioning.LabelDim} classes)");
        for (var i = 0; i < data.Labels.Length; i++)
            if (data.Labels[i] < 0 || data.Labels[i] >= conditioning.LabelDim)
                throw new InvalidDataException($"{data.Path}: image {i} has class id {data.Labels[i]}, outside the model's {conditioning.LabelDim} classes (ids 0 to {conditioning.LabelDim - 1}; see model.label_dim)");
    }

    private int[]? _cachedPermutation;
    private long _cachedEpoch = -1;

    private readonly Lock _permutationLock = new();

    private int[] Permutation(long epoch)
    {
        lock (_permutationLock)
        {
            if (_cachedEpoch != epoch)
            {
                _cachedPermutation = RandomStreams.For(RandomStream.EpochShuffle, _seed, (ulong)epoch).Permutation(_data.Count);
                _cachedEpoch = epoch;
            }
            return _cachedPermutation!;
        }
    }

    private void Produce(long batch)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                _queue.Add(Assemble(batch++), _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _failure = e;
        }
        finally
        {
            _queue.CompleteAdding();
        }
    }

    private HostBatch Assemble(long batch)
    {
        var (c, h, w, mc) = (_data.Channels, _data.Height, _data.Width, _data.MaskChannels);
        var pixels = c * h * w;
        var maskSize = mc * h * w;
        var observations = new float[_batchSize * pixels];
        var masks = new float[_batchSize * maskSize];
        var sigmas = new float[_batchSize];
        var indices = new int[_batchSize];
        var positions = new long[_batchSize];
        var dropped = new bool[_batchSize];
        for (var k = 0; k < _batchSize; k++)
        {
            // Global batch `batch` holds positions [batch * B * shards, ...); this shard reads its own contiguous slice.
            positions[k] = (batch * _shardCount + _shardIndex) * _batchSize + k;
            var (index, flipped) = SampleAt(positions[k]);
            dropped[k] = LabelDroppedAt(positions[k]);
            var observation = observations.AsSpan(k * pixels, pixels);
            var mask = masks.AsSpan(k * maskSize, maskSize);
            _data.ReadSample(index, observation, mask);
            if (flipped)
            {
                FlipRows(observation, w);
                FlipRows(mask, w);
            }
            sigmas[k] = _data.NoiseSigma(index);
            indices[k] = index;
        }
        // Labels follow the permutation; a horizontal flip keeps the class.
        var labels = _data.Labels is { } all ? indices.Select(i => all[i]).ToArray() : null;
        var conditioning = _conditioning is null ? null : labels!.Select((label, k) => dropped[k] ? Models.ClassLabels.Null : label).ToArray();
        return new HostBatch(observations, masks, sigmas, indices, positions, labels, conditioning);
    }

    /// <summary>Mirrors every row of a CHW (or HW) buffer left to right.</summary>
    internal static void FlipRows(Span<float> planes, int width)
    {
        for (var row = 0; row < planes.Length / width; row++) planes.Slice(row * width, width).Reverse();
    }

    /// <summary>The next batch, as tensors on <paramref name="device"/> owned by the current dispose scope.</summary>
    public CorruptedBatch Next(Device? device = null)
    {
        HostBatch host;
        try
        {
            host = _queue.Take();
        }
        catch (InvalidOperationException) when (_failure is not null)
        {
            throw new InvalidOperationException($"{_data.Path}: reading training data failed: {_failure.Message}", _failure);
        }
        NextBatch++;
        var target = device ?? Device.CPU;
        var (b, c, h, w) = ((long)_batchSize, (long)_data.Channels, (long)_data.Height, (long)_data.Width);
        return new CorruptedBatch(
            torch.tensor(host.Observations, [b, c, h, w], target),
            torch.tensor(host.Masks, [b, _data.MaskChannels, h, w], target),
            torch.tensor(host.Sigmas, [b], target),
            host.Indices,
            host.Labels is null ? null : torch.tensor(host.Labels, [b], target),
            host.ConditioningIds is null ? null : Models.ClassLabels.OneHot(host.ConditioningIds, _conditioning!.LabelDim, target),
            host.Positions);
    }

    /// <summary>Stops the prefetch thread.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _worker.Join();
        _queue.Dispose();
        _stop.Dispose();
    }
}
