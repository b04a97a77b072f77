using System.Globalization;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;
using static AmbientDiffusion.Torch.torch.distributed;

namespace AmbientDiffusion.Training;

/// <summary>
/// The data-parallel side of a run: which worker this process is and the collectives the trainer calls at its few
/// meeting points. Every rank holds the same weights: rank 0's are broadcast at the start, and each step averages the
/// flat gradient buffer over ranks, so clipping, the non-finite guard, Adam and the EMA see identical inputs and
/// stay bitwise identical. Each rank reads its own slice of every global batch (<see cref="ShardBatch"/>); an example's
/// noise level, noise and further corruption come from its own generator keyed by its stream position (the trainer's),
/// so they are what one process would draw, and only dropout has a stream per rank (<see cref="StreamSeed"/>).
/// Only rank 0 writes files.
/// A single process is the <see cref="Single"/> instance, whose collectives do nothing.
/// </summary>
public sealed class DataParallel : IDisposable
{
    /// <summary>How long a collective may wait for the slowest rank unless AMBIENT_DIST_TIMEOUT_S says otherwise;
    /// it covers rank 0 writing a checkpoint while the others wait in the next step.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    /// <summary>The variable that overrides <see cref="DefaultTimeout"/>, in seconds.</summary>
    public const string TimeoutVariable = "AMBIENT_DIST_TIMEOUT_S";

    /// <summary>How long ranks wait for work that is not shared step by step: rank 0 preparing and corrupting the data,
    /// or EM's stages that rank 0 runs alone (the Gaussian fit, a round's study) or that ranks finish at different
    /// times (an E-step's shards). A dead peer still fails the wait at once, through its closed connection.</summary>
    public static readonly TimeSpan DataPreparationTimeout = TimeSpan.FromHours(12);

    /// <summary>Elements per all-reduce call over the flat gradient (64 MB of float32): one call for the models
    /// trained here, a few for larger ones, so that no single message dwarfs the transport's buffers.</summary>
    public const long BucketElements = 1L << 24;

    private readonly ProcessGroup? _group;

    private DataParallel(ProcessGroup? group, int localRank)
    {
        _group = group;
        LocalRank = localRank;
    }

    /// <summary>One process alone: every collective is a no-op.</summary>
    public static DataParallel Single { get; } = new(null, 0);

    /// <summary>Joins the job that torchrun's variables describe, or returns <see cref="Single"/> when WORLD_SIZE is
    /// not set. CUDA training uses NCCL, CPU training Gloo.</summary>
    public static DataParallel FromEnvironment(Device device, Func<string, string?>? read = null)
    {
        read ??= Environment.GetEnvironmentVariable;
        if (!LaunchEnvironment.IsPresent(read)) return Single;
        var environment = LaunchEnvironment.Read(read);
        if (environment.WorldSize == 1) return Single;
        var group = ProcessGroup.Init(environment, Timeout(read), BackendFor(device));
        return new DataParallel(group, environment.LocalRank);
    }

    /// <summary>The collective timeout: <see cref="DefaultTimeout"/> or AMBIENT_DIST_TIMEOUT_S.</summary>
    public static TimeSpan Timeout(Func<string, string?>? read = null)
    {
        var text = (read ?? Environment.GetEnvironmentVariable)(TimeoutVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultTimeout;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 86400
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException($"environment variable {TimeoutVariable}='{text}' is invalid: expected seconds in (0, 86400]");
    }

    /// <summary>This worker's rank (0 alone).</summary>
    public int Rank => _group?.Rank ?? 0;

    /// <summary>The number of workers (1 alone).</summary>
    public int WorldSize => _group?.WorldSize ?? 1;

    /// <summary>This worker's index on its machine: the CUDA device it trains on.</summary>
    public int LocalRank { get; }

    /// <summary>Whether this worker writes checkpoints, metrics, samples and reports (rank 0).</summary>
    public bool IsPrimary => Rank == 0;

    /// <summary>The device this worker trains on: CUDA device LOCAL_RANK when the config says CUDA.</summary>
    public Device Place(Device device) => device.Type == DeviceType.CUDA && _group is not null ? Device.CUDA(LocalRank) : device;

    /// <summary>The seed of a random stream that must differ between ranks (dropout, drawn over a rank's whole local
    /// batch). Rank 0 keeps <paramref name="seed"/>, so a single process is unchanged.</summary>
    public ulong StreamSeed(ulong seed) => Rank == 0 ? seed : SplitMix(seed ^ (0x9E37_79B9_7F4A_7C15UL * (ulong)Rank));

    /// <summary>This rank's slice of a global batch: (size per rank, index of the slice). The global batch must divide evenly.</summary>
    public (int LocalBatch, int Shard) ShardBatch(int globalBatch) => (LocalBatch(globalBatch, WorldSize), Rank);

    /// <summary>Each of <paramref name="worldSize"/> workers' share of a global batch; throws unless it divides evenly
    /// (a launcher asks this before it starts any worker).</summary>
    public static int LocalBatch(int globalBatch, int worldSize) => globalBatch % worldSize == 0
        ? globalBatch / worldSize
        : throw new ArgumentException($"training.batch_size={globalBatch} is not divisible by the {worldSize} workers: the global batch is split evenly across ranks");

    /// <summary>Copies rank 0's <paramref name="flat"/> (weights, EMA) to every rank, in buckets.</summary>
    public void BroadcastFromPrimary(Tensor flat)
    {
        if (_group is null) return;
        using var scope = torch.NewDisposeScope();
        ForEachBucket(flat, bucket => _group.broadcast(bucket, 0));
    }

    /// <summary>
    /// Averages the flat gradient over ranks, and the step's loss with it; returns the average loss and whether any
    /// rank asked to stop. A rank whose own loss is not finite poisons its gradient with NaN first, so that every
    /// rank sees a non-finite gradient and skips the same step.
    /// </summary>
    public (double Loss, bool Stop) AverageGradients(Tensor flatGrad, double localLoss, bool stopRequested)
    {
        if (_group is null) return (localLoss, stopRequested);
        using var scope = torch.NewDisposeScope();
        if (!double.IsFinite(localLoss))
        {
            using var noGrad = torch.no_grad();
            flatGrad.fill_(double.NaN);
        }
        ForEachBucket(flatGrad, bucket => _group.all_reduce(bucket, ReduceOp.Avg));
        var scalars = torch.tensor(new[] { localLoss, stopRequested ? 1.0 : 0.0 }, [2], flatGrad.device);
        _group.all_reduce(scalars);
        var values = scalars.to(Device.CPU).data<double>();
        return (values[0] / WorldSize, values[1] > 0);
    }

    /// <summary>Every rank's <paramref name="local"/> (same shape and dtype on all ranks) stacked in rank order, on
    /// every rank: an all-gather made of one summing all-reduce over zeros, exact for any dtype. Returns a tensor in
    /// the current dispose scope, on the CPU.</summary>
    public Tensor GatherRows(Tensor local)
    {
        if (_group is null) return local.unsqueeze(0);
        var device = _group.Backend == Backend.Nccl ? Device.CUDA(LocalRank) : Device.CPU;
        var all = torch.zeros([WorldSize, .. local.shape], local.dtype, device);
        all[Rank].copy_(local.to(device));
        _group.all_reduce(all);
        return all.to(Device.CPU);
    }

    /// <summary>The positions 0..<paramref name="count"/>-1 this rank handles when work is dealt out round-robin
    /// (rank r takes r, r + W, r + 2W, ...: EDM's split of sampling seeds).</summary>
    public int[] RoundRobin(int count) => Enumerable.Range(0, count).Where(i => i % WorldSize == Rank).ToArray();

    /// <summary>Rows computed on different ranks, assembled on every rank: <paramref name="local"/>'s row k belongs at
    /// row <paramref name="rows"/>[k] of a [<paramref name="total"/>, ...] tensor, and the ranks' rows are disjoint.
    /// One summing all-reduce over zeros, exact for any dtype; a tensor in the current dispose scope, on the CPU.</summary>
    public Tensor AssembleRows(Tensor local, IReadOnlyList<int> rows, long total)
    {
        if (local.shape[0] != rows.Count) throw new ArgumentException($"{local.shape[0]} rows for {rows.Count} positions");
        var device = _group?.Backend == Backend.Nccl ? Device.CUDA(LocalRank) : Device.CPU;
        var all = torch.zeros([total, .. local.shape[1..]], local.dtype, device);
        using (var noGrad = torch.no_grad())
            for (var k = 0; k < rows.Count; k++) all[rows[k]].copy_(local[k]);
        _group?.all_reduce(all);
        return all.to(Device.CPU);
    }

    /// <summary>The metadata key of the number of workers that wrote a checkpoint (absent: one).</summary>
    public const string WorldSizeKey = "world_size";

    /// <summary>The checkpoint key of every rank's state of a generator, [world size, state bytes].</summary>
    public static string RankStatesKey(string key) => key + ".ranks";

    /// <summary>What a checkpoint needs beyond rank 0's state: every rank's generator states (a collective: all ranks
    /// call it) and the world size. Empty for a single process, whose checkpoints stay as they were.</summary>
    public (List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) CheckpointState(params (string Key, Generator Generator)[] generators)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        var metadata = new Dictionary<string, string>();
        if (_group is null) return (tensors, metadata);
        foreach (var (key, generator) in generators) tensors.Add(new(RankStatesKey(key), GatherRows(generator.get_state())));
        metadata[WorldSizeKey] = WorldSize.ToString(CultureInfo.InvariantCulture);
        return (tensors, metadata);
    }

    /// <summary>Restores this rank's generator states from a checkpoint written by the same number of workers;
    /// another number is an error naming both (the dropout streams are per rank, so they cannot be re-dealt).</summary>
    public void RestoreCheckpointState(SafeTensorsFile file, params (string Key, Generator Generator)[] generators)
    {
        var written = file.Metadata.TryGetValue(WorldSizeKey, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 1;
        if (written != WorldSize)
            throw new ArgumentException($"{file.Path} was written by {written} worker(s) and cannot resume with {WorldSize}: resume with the same number of processes (ambient launch --nproc {written}, or torchrun --nproc-per-node)");
        if (_group is null) return;
        using var scope = torch.NewDisposeScope();
        foreach (var (key, generator) in generators) generator.set_state(file.GetTensor(RankStatesKey(key))[Rank].contiguous());
    }

    /// <summary>Every rank waits here until rank 0 arrives (after preparing the data, or after a stage only it runs).</summary>
    public void WaitForPrimary(TimeSpan timeout) => _group?.barrier(timeout);

    /// <summary><see cref="WaitForPrimary(TimeSpan)"/> in a job that a signal may stop. A signal reaches every rank of a
    /// job: when rank 0 stopped on it (and so left the barrier), its peers stopped too, and the failed barrier is that
    /// stop (<see cref="OperationCanceledException"/>), not an error.</summary>
    public void WaitForPrimary(TimeSpan timeout, CancellationToken cancel) => StopAware(() => WaitForPrimary(timeout), cancel);

    /// <summary>
    /// Whether <paramref name="done"/> holds on every rank, after waiting up to <paramref name="timeout"/> for the
    /// slowest (ranks that share out uneven work, such as E-step shards, arrive at different times). A rank stopped by
    /// a signal says no, so all ranks stop together; a failed wait during a stop is that stop, as in
    /// <see cref="WaitForPrimary(TimeSpan, CancellationToken)"/>.
    /// </summary>
    public bool AllRanks(bool done, TimeSpan timeout, CancellationToken cancel)
    {
        if (_group is null) return done;
        return StopAware(() =>
        {
            _group.barrier(timeout);
            using var scope = torch.NewDisposeScope();
            var device = _group.Backend == Backend.Nccl ? Device.CUDA(LocalRank) : Device.CPU;
            var notDone = torch.tensor(new[] { done ? 0.0 : 1.0 }, [1], device);
            _group.all_reduce(notDone);
            return notDone.to(Device.CPU).data<double>()[0] == 0;
        }, cancel);
    }

    private static void StopAware(Action wait, CancellationToken cancel) => StopAware(() =>
    {
        wait();
        return true;
    }, cancel);

    private static T StopAware<T>(Func<T> collective, CancellationToken cancel)
    {
        try
        {
            return collective();
        }
        catch (Exception e) when (cancel.IsCancellationRequested && e is not OperationCanceledException)
        {
            throw new OperationCanceledException($"stopped while waiting for the other ranks ({e.Message})", e, cancel);
        }
    }

    /// <summary>A barrier with the collective timeout.</summary>
    public void Barrier() => _group?.barrier();

    private static void ForEachBucket(Tensor flat, Action<Tensor> body)
    {
        var total = flat.numel();
        for (long start = 0; start < total; start += BucketElements)
            body(flat.narrow(0, start, Math.Min(BucketElements, total - start)));
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E37_79B9_7F4A_7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return x ^ (x >> 31);
    }

    /// <inheritdoc />
    public override string ToString() => _group?.ToString() ?? "single process";

    /// <inheritdoc />
    public void Dispose() => _group?.Dispose();
}
