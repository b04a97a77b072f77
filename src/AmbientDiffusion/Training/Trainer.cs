using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>Progress of a run, reported every tick: kimg done, loss, speed and the estimated time left.</summary>
public sealed record TrainingProgress(double Kimg, double TotalKimg, double Loss, double ImagesPerSecond, TimeSpan Eta, long Step, int SkippedSteps);

/// <summary>Raised when training diverges: non-finite gradients too many steps in a row, or weights that are no longer
/// finite when a checkpoint is due (then none is written, so the newest checkpoint keeps the last finite state).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The training loop, in EDM's units: duration, warm-up, EMA half-life and checkpoint intervals in thousands of images.
/// Owns the run: data loader, preconditioned network, flat Adam, EMA and the dropout generator, all saved in checkpoints
/// so that training N steps, stopping and resuming for N more equals 2N straight. Each example's σ, noise and further
/// corruption come from its own generator keyed by (seed, stream position), so they need no saved state and do not
/// depend on how the global batch is split over workers or accumulation rounds.
/// The loss is whatever the config chose; the loop only reduces its terms.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly TrainerSetup _setup;
    private readonly TrainingSettings _settings;
    private readonly CorruptedDataset _data;
    private readonly CorruptedBatchLoader _loader;
    private readonly DiffusionLoss _loss;
    private readonly torch.optim.FlatParameters _flat;
    private readonly torch.optim.Adam _adam;
    private readonly torch.optim.ExponentialMovingAverage? _ema;
    private readonly Generator _dropoutRandom;
    private readonly MetricsLog? _metrics;
    private readonly TrainingBoard? _board;
    private readonly DataParallel _parallel;
    private int _nonFiniteInARow;
    private CancellationToken _cancel;
    private bool _stopAgreed;

    private Trainer(TrainerSetup setup, string dataPath, string? resumeFrom)
    {
        _setup = setup;
        _settings = setup.Training;
        _parallel = setup.Parallel;
        UseBf16 = setup.Device.Bf16 == Bf16Mode.True;
        Device = _parallel.Place(Torch.Device.Parse(setup.Device.Type));
        if (setup.Device.Threads > 0) torch.set_num_threads(setup.Device.Threads);
        if (Device.Type == DeviceType.CUDA) torch.cuda.allow_tf32(setup.Device.Tf32);
        Directory.CreateDirectory(CheckpointDirectory);
        _data = CorruptedDataset.Open(dataPath);
        try
        {
            _loss = LossFactory.Create(setup.Loss, _data, setup.Seed);
            // Dropout differs by rank (rank 0 keeps the single-process stream); the initial weights agree.
            _dropoutRandom = new Generator(_parallel.StreamSeed(RandomStreams.GeneratorSeed(GeneratorStream.Dropout, setup.Seed)));
            var labelDim = setup.Model.ResolveLabelDim(_data.ClassNames?.Count ?? (_data.Labels is { Length: > 0 } ids ? (int)ids.Max() + 1 : 0), _data.Path);
            var geometry = new NetworkGeometry(_data.Height, _data.Channels, _loss.NetworkMaskChannels(_data.MaskChannels), labelDim);
            using (var init = new Generator(RandomStreams.GeneratorSeed(GeneratorStream.Initialization, setup.Seed)))
                Model = DenoiserFactory.Create(setup.Model, geometry, init, _dropoutRandom);
            Model.to(Device);
            _flat = new torch.optim.FlatParameters(Model.parameters());
            _adam = new torch.optim.Adam(_flat, _settings.Lr);
            _ema = _settings.EmaHalflifeKimg > 0 ? new torch.optim.ExponentialMovingAverage(_flat) : null;
            var state = resumeFrom is null ? TrainingState.Initial : LoadState(resumeFrom);
            _parallel.BroadcastFromPrimary(_flat.data);
            if (_ema is not null) _parallel.BroadcastFromPrimary(_ema.shadow);
            var (localBatch, shard) = _parallel.ShardBatch(_settings.BatchSize);
            _loader = new CorruptedBatchLoader(_data, localBatch, setup.Seed, setup.Flip, state.LoaderNextBatch, shardIndex: shard, shardCount: _parallel.WorldSize,
                conditioning: labelDim > 0 ? new LabelConditioning(labelDim, _settings.LabelDropout) : null);
            _metrics = _parallel.IsPrimary ? new MetricsLog(setup.MetricsFile) : null;
            _board = _parallel.IsPrimary && setup.TensorBoardDirectory is not null ? new TrainingBoard(setup.TensorBoardDirectory) : null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Starts a new run on the corrupted dataset <paramref name="dataPath"/>.</summary>
    public static Trainer Start(TrainerSetup setup, string dataPath) => new(setup, dataPath, null);

    /// <summary>Continues a run from its newest checkpoint (or starts it when it has none).</summary>
    public static Trainer Resume(TrainerSetup setup, string dataPath) => new(setup, dataPath, Checkpoint.Latest(setup.CheckpointDirectory));

    /// <summary>Where checkpoints go.</summary>
    public string CheckpointDirectory => _setup.CheckpointDirectory;

    /// <summary>Where training runs.</summary>
    public Device Device { get; }

    /// <summary>The preconditioned network being trained.</summary>
    public EdmPreconditioner Model { get; } = null!;

    /// <summary>Optimizer steps taken (skipped non-finite steps included).</summary>
    public long Step { get; private set; }

    /// <summary>Training images consumed.</summary>
    public long ImagesSeen { get; private set; }

    /// <summary>Steps skipped for non-finite gradients.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>The weights, flattened (for tests and analysis).</summary>
    public Tensor FlatWeights => _flat.data;

    /// <summary>The EMA weights, flattened, or null without an EMA.</summary>
    public Tensor? FlatEmaWeights => _ema?.shadow;

    /// <summary>Whether steps run under bf16 autocast (device.bf16), on the CPU as on CUDA. Only the precision probe
    /// (<see cref="Bf16Probe"/>) switches it, on its own throwaway trainer.</summary>
    public bool UseBf16 { get; internal set; }

    /// <summary>The images of one optimizer step.</summary>
    public int ImagesPerStep => _settings.BatchSize * _settings.Accumulation;

    /// <summary>The training state a checkpoint taken now would record.</summary>
    public TrainingState State => new(Step, ImagesSeen, _loader.NextBatch, _adam.StepCount, SkippedSteps, _nonFiniteInARow);
    /// <summary>Runs one optimizer step (all accumulation rounds) and returns the loss, or NaN for a skipped step.</summary>
    public double TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        var rounds = _settings.Accumulation;
        var lossSum = 0.0;
        for (var round = 0; round < rounds; round++)
        {
            var batch = _loader.Next(Device);
            using var random = ExampleGenerators(batch);
            Tensor loss;
            // bf16 autocast covers the forward pass and the loss; backward runs in the dtypes autocast recorded.
            using (UseBf16 ? torch.autocast(Device.Type, ScalarType.BFloat16) : (IDisposable?)null)
                loss = DiffusionLoss.Reduce(_loss.Compute(Model, batch, random), _setup.Loss.Reduction).to(ScalarType.Float32) / rounds;
            loss.backward();
            lossSum += loss.item<double>();
        }
        (lossSum, _stopAgreed) = _parallel.AverageGradients(_flat.grad, lossSum, _cancel.IsCancellationRequested);
        Step++;
        ImagesSeen += ImagesPerStep;
        if (!double.IsFinite(lossSum) || !_flat.grads_are_finite())
        {
            _flat.zero_grad();
            SkippedSteps++;
            if (++_nonFiniteInARow >= _settings.MaxNonfiniteInARow)
                throw new TrainingDivergedException($"{_nonFiniteInARow} steps in a row had non-finite gradients (step {Step}, {ImagesSeen / 1000.0:0.###} kimg): lower training.lr, check the data, or raise training.max_nonfinite_in_a_row{NewestCheckpointNote()}");
            return double.NaN;
        }
        _nonFiniteInARow = 0;
        // Without clipping the norm is still measured (it may overflow to +inf in float32; metrics.jsonl records that).
        LastGradNorm = _settings.GradClip > 0 ? _flat.clip_grad_norm_(_settings.GradClip) : _flat.grad_norm().item<double>();
        _adam.lr = LearningRate;
        _adam.step();
        _ema?.update(torch.optim.ExponentialMovingAverage.BetaForHalfLife(ImagesPerStep, _settings.EmaHalflifeKimg * 1000));
        _flat.zero_grad();
        return lossSum;
    }

    /// <summary>One generator per example of <paramref name="batch"/>, seeded by the run's seed and the example's stream position.</summary>
    private StackedGenerator ExampleGenerators(CorruptedBatch batch) =>
        new((batch.Positions ?? throw new InvalidOperationException("a training batch must carry its stream positions"))
            .Select(position => RandomStreams.Seed(RandomStream.TrainingExample, _setup.Seed, (ulong)position)));

    /// <summary>Gradient norm before clipping (or unclipped, with training.grad_clip 0) at the last step taken; NaN before the first.</summary>
    public double LastGradNorm { get; private set; } = double.NaN;

    /// <summary>The learning rate after linear warm-up over training.lr_warmup_kimg.</summary>
    public double LearningRate => _settings.Lr * (_settings.LrWarmupKimg > 0 ? Math.Min(1.0, ImagesSeen / (_settings.LrWarmupKimg * 1000)) : 1.0);

    /// <summary>Trains until training.duration_kimg, writing metrics every tick and checkpoints every
    /// training.checkpoint_kimg, at the end, and when <paramref name="cancel"/> fires (then it returns early).</summary>
    public void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var total = _settings.DurationKimg * 1000;
        var tickImages = _settings.TickKimg * 1000;
        var checkpointImages = _settings.CheckpointKimg * 1000;
        var clock = Stopwatch.StartNew();
        var tickStart = (images: ImagesSeen, seconds: 0.0);
        double tickLoss = 0;
        var tickSteps = 0;
        var nextTick = ImagesSeen + tickImages;
        var nextCheckpoint = ImagesSeen + checkpointImages;
        _cancel = cancel;
        // Ranks stop together, at the first step after any of them was cancelled; one process stops at once.
        while (ImagesSeen < total && !(_parallel.WorldSize == 1 ? cancel.IsCancellationRequested : _stopAgreed))
        {
            var loss = TrainStep();
            if (!double.IsNaN(loss))
            {
                tickLoss += loss;
                tickSteps++;
            }
            if (ImagesSeen >= nextTick || ImagesSeen >= total)
            {
                var seconds = clock.Elapsed.TotalSeconds;
                var rate = (ImagesSeen - tickStart.images) / Math.Max(1e-9, seconds - tickStart.seconds);
                var tick = new TrainingTick(Step, ImagesSeen / 1000.0, tickSteps > 0 ? tickLoss / tickSteps : double.NaN, LearningRate, rate, seconds - tickStart.seconds, SkippedSteps, LastGradNorm);
                _metrics?.Append(tick);
                _board?.Append(tick);
                progress?.Report(new TrainingProgress(tick.Kimg, total / 1000, tick.Loss, rate, TimeSpan.FromSeconds((total - ImagesSeen) / Math.Max(rate, 1e-9)), Step, SkippedSteps));
                (tickStart, tickLoss, tickSteps, nextTick) = ((ImagesSeen, seconds), 0, 0, nextTick + tickImages);
            }
            if (ImagesSeen >= nextCheckpoint && ImagesSeen < total)
            {
                SaveCheckpoint();
                nextCheckpoint += checkpointImages;
            }
        }
        SaveCheckpoint();
    }

    /// <summary>Whether the configured duration has been trained.</summary>
    public bool IsComplete => ImagesSeen >= _settings.DurationKimg * 1000;

    /// <summary>Writes a checkpoint of the current state (atomically) and returns its path. Weights that are no longer
    /// finite stop training with <see cref="TrainingDivergedException"/> instead: a checkpoint is always a finite state.</summary>
    public string SaveCheckpoint()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (name, values) in new[] { ("weights", _flat.data), ("EMA weights", _ema?.shadow) })
            if (values is not null && FiniteValues.Problem(values) is { } problem)
                throw new TrainingDivergedException($"the {name} are no longer finite at step {Step} ({ImagesSeen / 1000.0:0.###} kimg; {problem}): no checkpoint written; lower training.lr or check the data{NewestCheckpointNote()}");
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, p) in Model.named_parameters()) tensors.Add(new(Checkpoint.ModelPrefix + name, p));
        if (_ema is not null)
        {
            var parameters = _flat.Parameters;
            var names = Model.named_parameters().Select(p => p.name).ToList();
            for (var i = 0; i < parameters.Count; i++)
                tensors.Add(new(Checkpoint.EmaPrefix + names[i], _ema.shadow.narrow(0, _flat.Offsets[i], parameters[i].numel()).view(parameters[i].shape)));
        }
        tensors.Add(new(Checkpoint.AdamExpAvg, _adam.exp_avg));
        tensors.Add(new(Checkpoint.AdamExpAvgSq, _adam.exp_avg_sq));
        tensors.Add(new(Checkpoint.DropoutGeneratorState, _dropoutRandom.get_state()));
        // Every rank takes part in gathering the per-rank generator states; rank 0 alone writes.
        var (rankTensors, rankMetadata) = _parallel.CheckpointState((Checkpoint.DropoutGeneratorState, _dropoutRandom));
        var path = Path.Combine(CheckpointDirectory, Checkpoint.FileName(Step));
        if (!_parallel.IsPrimary) return path;
        tensors.AddRange(rankTensors);
        var header = new CheckpointHeader
        {
            State = State,
            ResolvedConfig = _setup.ResolvedConfig,
            Model = _setup.Model,
            Loss = _setup.Loss,
            DataPath = _data.Path,
            DataCorruption = _data.Metadata.GetValueOrDefault("corruption", ""),
            DataCorruptionSpecJson = _data.Metadata.GetValueOrDefault("corruption_spec", ""),
            // The float32 σ_n as its shortest decimal (0.2, not 0.20000000298…): what checkpoints have always recorded.
            DataNoiseSigmaMax = double.Parse(_data.MaxNoiseSigma.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
            Geometry = new NetworkGeometry(Model.Network.Resolution, Model.Network.ImageChannels, Model.Network.MaskChannels, Model.Network.LabelDim),
            ClassNames = Model.Network.LabelDim > 0 ? _data.ClassNames ?? [] : [],
            Parameters = Model.parameter_count(),
            Tool = ToolVersion.Describe(),
        };
        Checkpoint.Save(path, tensors, header, rankMetadata);
        return path;
    }

    /// <summary>"; the newest checkpoint, X, holds the last finite state" (or that there is none yet).</summary>
    private string NewestCheckpointNote() => Checkpoint.Latest(CheckpointDirectory) is { } latest
        ? $"; the newest checkpoint, {latest}, holds the last finite state"
        : "; no checkpoint was written yet";

    private TrainingState LoadState(string path)
    {
        using var file = Checkpoint.Open(path);
        using var scope = torch.NewDisposeScope();
        // Weights, EMA and Adam's moments: resuming from a non-finite state would only diverge again, later.
        Checkpoint.RequireFinite(file);
        var state = CheckpointHeader.Read(file).State;
        Checkpoint.LoadWeights(file, Model, ema: false);
        if (_ema is not null)
        {
            var parameters = _flat.Parameters;
            var names = Model.named_parameters().Select(p => p.name).ToList();
            using var noGrad = torch.no_grad();
            for (var i = 0; i < parameters.Count; i++)
                _ema.shadow.narrow(0, _flat.Offsets[i], parameters[i].numel()).copy_(file.GetTensor(Checkpoint.EmaPrefix + names[i]).reshape(-1));
        }
        _adam.load_state(file.GetTensor(Checkpoint.AdamExpAvg), file.GetTensor(Checkpoint.AdamExpAvgSq), state.AdamStep);
        _dropoutRandom.set_state(file.GetTensor(Checkpoint.DropoutGeneratorState));
        _parallel.RestoreCheckpointState(file, (Checkpoint.DropoutGeneratorState, _dropoutRandom));
        (Step, ImagesSeen, SkippedSteps, _nonFiniteInARow) = (state.Step, state.ImagesSeen, state.SkippedSteps, state.NonfiniteInARow);
        return state;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _board?.Dispose();
        _loader?.Dispose();
        _ema?.Dispose();
        _adam?.Dispose();
        _flat?.Dispose();
        Model?.Dispose();
        _dropoutRandom?.Dispose();
        _data?.Dispose();
    }
}
