using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>Runs a trained classifier over uint8 images: predictions, logits, features and a scored report.</summary>
public static class ClassifierEvaluation
{
    /// <summary>Images per forward pass.</summary>
    public const int BatchSize = 256;

    /// <summary>Applies <paramref name="layer"/> (logits or features of prepared inputs) to uint8 images in batches, without
    /// gradients; the float32 [N, D] result is on the CPU in the caller's scope.</summary>
    public static Tensor Map(ImageClassifier model, Tensor images, Func<Tensor, Tensor> layer, IProgress<long>? progress = null)
    {
        model.Geometry.Check(images, "classifier input");
        var device = model.output.weight.device;
        var count = images.shape[0];
        if (count == 0) throw new ArgumentException("classifier input: no images");
        var rows = new List<Tensor>();
        using var noGrad = torch.no_grad();
        for (long start = 0; start < count; start += BatchSize)
        {
            // Each batch's intermediates die with its scope; only the CPU result moves out.
            using var scope = torch.NewDisposeScope();
            var size = Math.Min(BatchSize, count - start);
            rows.Add(scope.MoveToOuter(layer(model.Prepare(images.narrow(0, start, size), device)).to(Device.CPU)));
            progress?.Report(start + size);
        }
        return torch.cat(rows, 0);
    }

    /// <summary>Logits [N, classes] of uint8 images.</summary>
    public static Tensor Logits(ImageClassifier model, Tensor images, IProgress<long>? progress = null) => Map(model, images, model.forward, progress);

    /// <summary>The most likely class of each uint8 image.</summary>
    public static long[] Predict(ImageClassifier model, Tensor images, IProgress<long>? progress = null)
    {
        using var scope = torch.NewDisposeScope();
        return Logits(model, images, progress).argmax(1).data<long>();
    }

    /// <summary>Top-1, per-class accuracy and the confusion matrix of the model on labelled uint8 images.</summary>
    public static ClassificationReport Evaluate(ImageClassifier model, Tensor images, long[] labels, IReadOnlyList<string> classNames, IProgress<long>? progress = null) =>
        new(Predict(model, images, progress), labels, classNames);
}
