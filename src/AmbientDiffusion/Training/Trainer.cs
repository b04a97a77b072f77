using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>Progress of a run, reported every tick: kimg done, loss, speed and the estimated time left.</summary>
public sealed record TrainingProgress(double Kimg, double TotalKimg, double Loss, double ImagesPerSecond, TimeSpan Eta, long Step, int SkippedSteps);

/// <summary>Raised when training produces non-finite gradients too many steps in a row.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The training loop, in EDM's units: duration, warm-up, EMA half-life and checkpoint intervals in thousands of images.
/// Owns the run: data loader, preconditioned network, flat Adam, EMA, and two generators (training randomness and
/// dropout), all saved in checkpoints so that training N steps, stopping and resuming for N more equals 2N straight.
/// The loss is whatever the config chose; the loop only reduces its terms.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly CorruptedDataset _data;
    private readonly CorruptedBatchLoader _loader;
    private readonly DiffusionLoss _loss;
    private readonly LossReduction _reduction;
    private readonly torch.optim.FlatParameters _flat;
    private readonly torch.optim.Adam _adam;
    private readonly torch.optim.ExponentialMovingAverage? _ema;
    private readonly Generator _trainRandom;
    private readonly Generator _dropoutRandom;
    private readonly MetricsLog? _metrics;
    private readonly DataParallel _parallel;
    private int _nonFiniteInARow;
    private CancellationToken _cancel;
    private bool _stopAgreed;

    private Trainer(ExperimentConfig config, string runDirectory, string dataPath, string? resumeFrom, DataParallel? parallel)
    {
        _config = config;
        _parallel = parallel ?? DataParallel.Single;
        RunDirectory = runDirectory;
        Device = _parallel.Place(Torch.Device.Parse(config.Device.Type));
        if (config.Device.Threads > 0) torch.set_num_threads(config.Device.Threads);
        if (Device.Type == DeviceType.CUDA) torch.cuda.allow_tf32(config.Device.Tf32);
        Directory.CreateDirectory(CheckpointDirectory);
        _data = CorruptedDataset.Open(dataPath);
        try
        {
            _loss = LossFactory.Create(config.Loss, _data, config.Seed);
            _reduction = LossFactory.Reduction(config.Loss);
            _trainRandom = new Generator(_parallel.StreamSeed(config.Seed));
            _dropoutRandom = new Generator(_parallel.StreamSeed(config.Seed ^ 0xD709_0D70UL));
            using (var init = new Generator(config.Seed ^ 0x1417UL))
            {
                var network = ModelFactory.Create(config.Model, _data.Channels, _loss.NetworkMaskChannels(_data.MaskChannels), _data.Height, init, _dropoutRandom);
                Model = new EdmPreconditioner(network, perPixelHidden: config.Model.MaskPreconditioning == "per_pixel");
            }
            Model.to(Device);
            _flat = new torch.optim.FlatParameters(Model.parameters());
            _adam = new torch.optim.Adam(_flat, config.Training.Lr);
            _ema = config.Training.EmaHalflifeKimg > 0 ? new torch.optim.ExponentialMovingAverage(_flat) : null;
            long startBatch = 0;
            if (resumeFrom is not null) startBatch = LoadState(resumeFrom);
            _parallel.BroadcastFromPrimary(_flat.data);
            if (_ema is not null) _parallel.BroadcastFromPrimary(_ema.shadow);
            var (localBatch, shard) = _parallel.ShardBatch(config.Training.BatchSize);
            _loader = new CorruptedBatchLoader(_data, localBatch, config.Seed, config.Data.Flip, startBatch, shardIndex: shard, shardCount: _parallel.WorldSize);
            _metrics = _parallel.IsPrimary ? new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl")) : null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Starts a new run in <paramref name="runDirectory"/> on the corrupted dataset <paramref name="dataPath"/>
    /// (default: the config's <c>data.corrupted</c>), writing the resolved config there.</summary>
    public static Trainer Start(ExperimentConfig config, string runDirectory, string? dataPath = null, DataParallel? parallel = null)
    {
        config.Validate();
        dataPath = DataPath(config, dataPath);
        Directory.CreateDirectory(runDirectory);
        if (parallel?.IsPrimary != false)
            AtomicFile.WriteAllBytes(Path.Combine(runDirectory, "config.yaml"), System.Text.Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(config)));
        return new Trainer(config, runDirectory, dataPath, null, parallel);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> from its newest checkpoint (or starts it when it has none).</summary>
    public static Trainer Resume(ExperimentConfig config, string runDirectory, string? dataPath = null, DataParallel? parallel = null)
    {
        config.Validate();
        var latest = Checkpoint.Latest(Path.Combine(runDirectory, "checkpoints"));
        return latest is null ? Start(config, runDirectory, dataPath, parallel) : new Trainer(config, runDirectory, DataPath(config, dataPath), latest, parallel);
    }

    private static string DataPath(ExperimentConfig config, string? dataPath) =>
        !string.IsNullOrWhiteSpace(dataPath) ? dataPath
        : !string.IsNullOrWhiteSpace(config.Data.Corrupted) ? config.Data.Corrupted
        : throw new ConfigException("data.corrupted is empty: training needs a corrupted dataset (run the experiment with `ambient train`, which prepares and corrupts the data first)", "data.corrupted");

    /// <summary>The run directory.</summary>
    public string RunDirectory { get; }

    /// <summary>Where checkpoints go.</summary>
    public string CheckpointDirectory => Path.Combine(RunDirectory, "checkpoints");

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

    /// <summary>Whether steps run under bf16 autocast (device.bf16), on the CPU as on CUDA.</summary>
    public bool UseBf16 => _config.Device.Bf16;

    /// <summary>The images of one optimizer step.</summary>
    public int ImagesPerStep => _config.Training.BatchSize * _config.Training.Accumulation;

    /// <summary>Runs one optimizer step (all accumulation rounds) and returns the loss, or NaN for a skipped step.</summary>
    public double TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        var rounds = _config.Training.Accumulation;
        var lossSum = 0.0;
        for (var round = 0; round < rounds; round++)
        {
            var batch = _loader.Next(Device);
            Tensor loss;
            // bf16 autocast covers the forward pass and the loss; backward runs in the dtypes autocast recorded.
            using (UseBf16 ? torch.autocast(Device.Type, ScalarType.BFloat16) : (IDisposable?)null)
                loss = DiffusionLoss.Reduce(_loss.Compute(Model, batch, _trainRandom), _reduction).to(ScalarType.Float32) / rounds;
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
            if (++_nonFiniteInARow >= _config.Training.MaxNonfiniteInARow)
                throw new TrainingDivergedException($"{_nonFiniteInARow} steps in a row had non-finite gradients (step {Step}, {ImagesSeen / 1000.0:0.###} kimg): lower training.lr, check the data, or raise training.max_nonfinite_in_a_row");
            return double.NaN;
        }
        _nonFiniteInARow = 0;
        LastGradNorm = _config.Training.GradClip > 0 ? _flat.clip_grad_norm_(_config.Training.GradClip) : double.NaN;
        _adam.lr = LearningRate;
        _adam.step();
        _ema?.update(torch.optim.ExponentialMovingAverage.BetaForHalfLife(ImagesPerStep, _config.Training.EmaHalflifeKimg * 1000));
        _flat.zero_grad();
        return lossSum;
    }

    /// <summary>Gradient norm before clipping at the last step (NaN without clipping).</summary>
    public double LastGradNorm { get; private set; } = double.NaN;

    /// <summary>The learning rate after linear warm-up over training.lr_warmup_kimg.</summary>
    public double LearningRate => _config.Training.Lr * (_config.Training.LrWarmupKimg > 0 ? Math.Min(1.0, ImagesSeen / (_config.Training.LrWarmupKimg * 1000)) : 1.0);

    /// <summary>Trains until training.duration_kimg, writing metrics every tick and checkpoints every
    /// training.checkpoint_kimg, at the end, and when <paramref name="cancel"/> fires (then it returns early).</summary>
    public void Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var total = _config.Training.DurationKimg * 1000;
        var tickImages = _config.Training.TickKimg * 1000;
        var checkpointImages = _config.Training.CheckpointKimg * 1000;
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
    public bool IsComplete => ImagesSeen >= _config.Training.DurationKimg * 1000;

    /// <summary>Writes a checkpoint of the current state (atomically) and returns its path.</summary>
    public string SaveCheckpoint()
    {
        using var scope = torch.NewDisposeScope();
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
        tensors.Add(new(Checkpoint.TrainGeneratorState, _trainRandom.get_state()));
        tensors.Add(new(Checkpoint.DropoutGeneratorState, _dropoutRandom.get_state()));
        var (rankTensors, rankMetadata) = _parallel.CheckpointState((Checkpoint.TrainGeneratorState, _trainRandom), (Checkpoint.DropoutGeneratorState, _dropoutRandom));
        var path = Path.Combine(CheckpointDirectory, Checkpoint.FileName(Step));
        if (!_parallel.IsPrimary) return path;
        tensors.AddRange(rankTensors);
        var metadata = new Dictionary<string, string>(rankMetadata)
        {
            ["format"] = Checkpoint.FormatName,
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
            ["images_seen"] = ImagesSeen.ToString(CultureInfo.InvariantCulture),
            ["loader_next_batch"] = _loader.NextBatch.ToString(CultureInfo.InvariantCulture),
            ["adam_step"] = _adam.StepCount.ToString(CultureInfo.InvariantCulture),
            ["skipped_steps"] = SkippedSteps.ToString(CultureInfo.InvariantCulture),
            ["nonfinite_in_a_row"] = _nonFiniteInARow.ToString(CultureInfo.InvariantCulture),
            ["config"] = ConfigLoader.ToYaml(_config),
            ["data"] = _data.Path,
            ["data_corruption"] = _data.Metadata.TryGetValue("corruption", out var corruption) ? corruption : "",
            ["data_corruption_spec"] = _data.Metadata.TryGetValue("corruption_spec", out var spec) ? spec : "",
            ["data_noise_sigma_max"] = _data.MaxNoiseSigma.ToString("R", CultureInfo.InvariantCulture),
            ["image_channels"] = Model.Network.ImageChannels.ToString(CultureInfo.InvariantCulture),
            ["mask_channels"] = Model.Network.MaskChannels.ToString(CultureInfo.InvariantCulture),
            ["resolution"] = Model.Network.Resolution.ToString(CultureInfo.InvariantCulture),
            ["parameters"] = Model.parameter_count().ToString(CultureInfo.InvariantCulture),
            ["tool"] = ToolVersion.Describe(),
        };
        SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    private long LoadState(string path)
    {
        using var file = Checkpoint.Open(path);
        using var scope = torch.NewDisposeScope();
        Checkpoint.LoadWeights(file, Model, ema: false);
        if (_ema is not null)
        {
            var parameters = _flat.Parameters;
            var names = Model.named_parameters().Select(p => p.name).ToList();
            using var noGrad = torch.no_grad();
            for (var i = 0; i < parameters.Count; i++)
                _ema.shadow.narrow(0, _flat.Offsets[i], parameters[i].numel()).copy_(file.GetTensor(Checkpoint.EmaPrefix + names[i]).reshape(-1));
        }
        _adam.load_state(file.GetTensor(Checkpoint.AdamExpAvg), file.GetTensor(Checkpoint.AdamExpAvgSq), long.Parse(Checkpoint.Require(file, "adam_step"), CultureInfo.InvariantCulture));
        _trainRandom.set_state(file.GetTensor(Checkpoint.TrainGeneratorState));
        _dropoutRandom.set_state(file.GetTensor(Checkpoint.DropoutGeneratorState));
        _parallel.RestoreCheckpointState(file, (Checkpoint.TrainGeneratorState, _trainRandom), (Checkpoint.DropoutGeneratorState, _dropoutRandom));
        Step = long.Parse(Checkpoint.Require(file, "step"), CultureInfo.InvariantCulture);
        ImagesSeen = long.Parse(Checkpoint.Require(file, "images_seen"), CultureInfo.InvariantCulture);
        SkippedSteps = int.Parse(Checkpoint.Require(file, "skipped_steps"), CultureInfo.InvariantCulture);
        _nonFiniteInARow = int.Parse(Checkpoint.Require(file, "nonfinite_in_a_row"), CultureInfo.InvariantCulture);
        return long.Parse(Checkpoint.Require(file, "loader_next_batch"), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _loader?.Dispose();
        _ema?.Dispose();
        _adam?.Dispose();
        _flat?.Dispose();
        Model?.Dispose();
        _trainRandom?.Dispose();
        _dropoutRandom?.Dispose();
        _data?.Dispose();
    }
}
