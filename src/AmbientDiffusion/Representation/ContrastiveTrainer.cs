using AmbientDiffusion.Classification;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Representation;

/// <summary>How the contrastive encoder trains.</summary>
/// <param name="Epochs">Passes over the images (each image once per epoch; twice, as two views, for instance positives).</param>
/// <param name="BatchSize">Rows per Adam step.</param>
/// <param name="PositivesPerSet">Images drawn together from one class or group, so each has that many - 1 positives in the batch.</param>
/// <param name="Temperature">Softmax temperature of the cosine similarities.</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the weights, the batches and the augmentations.</param>
/// <param name="Augmentation">The augmentations of every view.</param>
public sealed record ContrastiveOptions(int Epochs = 4, int BatchSize = 128, int PositivesPerSet = 8, double Temperature = 0.1, double LearningRate = 2e-3, ulong Seed = 0,
    AugmentationOptions? Augmentation = null)
{
    /// <summary>The augmentations, defaults when none are given.</summary>
    public AugmentationOptions Views => Augmentation ?? new AugmentationOptions();

    /// <summary>Checks every value, naming the option that is wrong.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"encoder epochs = {Epochs}: expected at least 1");
        if (BatchSize < 4) throw new ArgumentException($"encoder batch size = {BatchSize}: expected at least 4");
        if (PositivesPerSet < 2 || PositivesPerSet > BatchSize) throw new ArgumentException($"positives per set = {PositivesPerSet}: expected 2 to the batch size ({BatchSize})");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentException($"temperature = {Temperature}: expected a finite value > 0");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"encoder learning rate = {LearningRate}: expected a finite value > 0");
        Views.Validate();
    }
}

/// <summary>Progress of <see cref="ContrastiveTrainer.Train"/>: rows done of the total and the epoch's mean loss so far.</summary>
public sealed record ContrastiveProgress(int Epoch, long RowsDone, long RowsTotal, double MeanLoss);

/// <summary>
/// Trains a <see cref="ContrastiveEncoder"/> with Adam on the multi-positive contrastive loss over augmented views.
/// Deterministic per seed: weights, batches and augmentations come from keyed streams.
/// </summary>
public static class ContrastiveTrainer
{
    /// <summary>
    /// Trains on uint8 <paramref name="images"/> [N, C, H, W] (CPU) whose positives share <paramref name="setIds"/>
    /// (class or group ids; ignored for <see cref="PositiveKind.Instance"/>); returns the model in eval mode on
    /// <paramref name="device"/> and each epoch's mean loss.
    /// </summary>
    public static (ContrastiveEncoder Encoder, double[] EpochLosses) Train(Tensor images, long[] setIds, PositiveKind kind, ContrastiveOptions options, Device device,
        IProgress<ContrastiveProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var shape = images.shape;
        if (images.dtype != ScalarType.Byte || shape.Length != 4) throw new ArgumentException($"encoder training images: expected uint8 [N, C, H, W], got {images.dtype} [{string.Join(", ", shape)}]");
        if (setIds.Length != shape[0]) throw new ArgumentException($"encoder training images: {shape[0]} images but {setIds.Length} positive ids");
        var model = new ContrastiveEncoder(new ClassifierGeometry((int)shape[1], (int)shape[2], (int)shape[3]), options.Seed);
        try
        {
            model.to(device);
            model.train();
            using var flat = new torch.optim.FlatParameters(model.parameters());
            using var adam = new torch.optim.Adam(flat, options.LearningRate);
            var losses = new double[options.Epochs];
            var epochs = Enumerable.Range(0, options.Epochs).Select(e => ContrastiveBatches.Epoch(setIds, kind, options.BatchSize, options.PositivesPerSet, options.Seed, e)).ToList();
            var total = epochs.Sum(batches => batches.Sum(b => (long)b.Images.Length));
            long done = 0;
            for (var epoch = 0; epoch < options.Epochs; epoch++)
            {
                double lossSum = 0;
                var batches = epochs[epoch];
                for (var i = 0; i < batches.Count; i++)
                {
                    cancel.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var batch = batches[i];
                    var input = ImageAugmentation.Apply(model.Prepare(images.index_select(0, torch.tensor(batch.Images)), device), options.Views, options.Seed, epoch, i);
                    var loss = MultiPositiveContrastiveLoss.Compute(model.forward(input), batch.PositiveIds, options.Temperature);
                    flat.zero_grad();
                    loss.backward();
                    adam.step();
                    lossSum += loss.item<double>();
                    done += batch.Images.Length;
                    if (i % 5 == 4 || i == batches.Count - 1) progress?.Report(new ContrastiveProgress(epoch + 1, done, total, lossSum / (i + 1)));
                }
                losses[epoch] = lossSum / batches.Count;
            }
            model.eval();
            return (model, losses);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The L2-normalised representations [N, D] (CPU) of uint8 images, in batches without gradients.</summary>
    public static Tensor NormalisedFeatures(ContrastiveEncoder model, Tensor images)
    {
        var device = model.conv1.weight.device;
        var rows = new List<Tensor>();
        using var noGrad = torch.no_grad();
        for (long start = 0; start < images.shape[0]; start += ClassifierEvaluation.BatchSize)
        {
            using var scope = torch.NewDisposeScope();
            var features = model.Features(model.Prepare(images.narrow(0, start, Math.Min(ClassifierEvaluation.BatchSize, images.shape[0] - start)), device));
            rows.Add(scope.MoveToOuter(features.div(features.norm([1], keepdim: true).clamp(min: 1e-12)).to(Device.CPU)));
        }
        return torch.cat(rows, 0);
    }
}
