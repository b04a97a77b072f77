using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>How to train the classifier.</summary>
/// <param name="Epochs">Passes over the training images.</param>
/// <param name="BatchSize">Images per Adam step.</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the initial weights and every epoch's shuffle.</param>
public sealed record ClassifierTrainingOptions(int Epochs = 6, int BatchSize = 64, double LearningRate = 1e-3, ulong Seed = 0)
{
    /// <summary>Checks every value, naming the option that is wrong.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"epochs = {Epochs}: expected at least 1");
        if (BatchSize < 1) throw new ArgumentException($"batch size = {BatchSize}: expected at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"learning rate = {LearningRate}: expected a finite value > 0");
    }
}

/// <summary>Progress of <see cref="ClassifierTrainer.Train"/>: images seen so far out of the total, and the mean loss
/// of the epoch so far.</summary>
public sealed record ClassifierTrainingProgress(int Epoch, long ImagesDone, long ImagesTotal, double MeanLoss);

/// <summary>
/// Trains an <see cref="ImageClassifier"/> with Adam on cross-entropy. Deterministic: the weights come from a
/// generator seeded by the options' seed and epoch e visits the images in a permutation keyed by (seed, e), so the same
/// inputs and seed give bitwise the same weights on the same device and thread count. Takes tensors and labels, so
/// it trains on real or generated images alike (Classification Accuracy Score).
/// </summary>
public static class ClassifierTrainer
{
    /// <summary>
    /// Trains on uint8 <paramref name="images"/> [N, C, H, W] (CPU) with class ids <paramref name="labels"/> in
    /// [0, <paramref name="classCount"/>); the returned model lives on <paramref name="device"/> in eval mode.
    /// </summary>
    public static ImageClassifier Train(Tensor images, long[] labels, int classCount, ClassifierTrainingOptions options, Device? device = null,
        IProgress<ClassifierTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var shape = images.shape;
        if (images.dtype != ScalarType.Byte || shape.Length != 4) throw new ArgumentException($"training images: expected uint8 [N, C, H, W], got {images.dtype} [{string.Join(", ", shape)}]");
        var count = (int)shape[0];
        if (labels.Length != count) throw new ArgumentException($"training images: {count} images but {labels.Length} labels");
        for (var i = 0; i < labels.Length; i++)
            if ((ulong)labels[i] >= (ulong)classCount) throw new ArgumentException($"training labels: label[{i}] = {labels[i]} is out of range (expected 0 to {classCount - 1})");
        var target = device ?? Device.CPU;
        var model = new ImageClassifier(new ClassifierGeometry((int)shape[1], (int)shape[2], (int)shape[3]), classCount, options.Seed);
        try
        {
            model.to(target);
            model.train();
            using var flat = new torch.optim.FlatParameters(model.parameters());
            using var adam = new torch.optim.Adam(flat, options.LearningRate);
            var cpuImages = images.device == Device.CPU ? images : images.to(Device.CPU);
            var total = (long)options.Epochs * count;
            for (var epoch = 0; epoch < options.Epochs; epoch++)
            {
                var order = RandomStreams.For(RandomStream.ClassifierShuffle, options.Seed, (ulong)epoch).Permutation(count);
                double lossSum = 0;
                var batches = 0;
                for (var start = 0; start < count; start += options.BatchSize)
                {
                    cancel.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var size = Math.Min(options.BatchSize, count - start);
                    var indices = order.AsSpan(start, size).ToArray().Select(i => (long)i).ToArray();
                    var batch = cpuImages.index_select(0, torch.tensor(indices));
                    var batchLabels = torch.tensor(indices.Select(i => labels[i]).ToArray(), [size], target);
                    var loss = CrossEntropy(model.forward(model.Prepare(batch, target)), batchLabels);
                    flat.zero_grad();
                    loss.backward();
                    adam.step();
                    lossSum += loss.item<double>();
                    batches++;
                    if (batches % 20 == 0 || start + size == count)
                        progress?.Report(new ClassifierTrainingProgress(epoch + 1, (long)epoch * count + start + size, total, lossSum / batches));
                }
            }
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> [B, K] against int64 class ids [B].</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        torch.nn.functional.log_softmax(logits, 1).gather(1, labels.unsqueeze(1)).mean().neg();
}
