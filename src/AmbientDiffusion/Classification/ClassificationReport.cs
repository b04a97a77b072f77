namespace AmbientDiffusion.Classification;

/// <summary>
/// How well predictions match labels: the confusion matrix (rows true class, columns predicted class), and from it
/// top-1 accuracy and the accuracy within each class.
/// </summary>
public sealed class ClassificationReport
{
    /// <summary>Scores <paramref name="predicted"/> against <paramref name="labels"/> (class ids, same length).</summary>
    public ClassificationReport(long[] predicted, long[] labels, IReadOnlyList<string> classNames)
    {
        if (predicted.Length != labels.Length) throw new ArgumentException($"{predicted.Length} predictions but {labels.Length} labels");
        if (labels.Length == 0) throw new ArgumentException("no labelled images to score");
        var k = classNames.Count;
        ClassNames = classNames;
        Confusion = new long[k, k];
        for (var i = 0; i < labels.Length; i++)
        {
            if ((ulong)labels[i] >= (ulong)k) throw new ArgumentException($"label[{i}] = {labels[i]} is out of range (expected 0 to {k - 1})");
            if ((ulong)predicted[i] >= (ulong)k) throw new ArgumentException($"prediction[{i}] = {predicted[i]} is out of range (expected 0 to {k - 1})");
            Confusion[labels[i], predicted[i]]++;
        }
        Count = labels.Length;
        ClassCounts = new long[k];
        PerClassAccuracy = new double[k];
        long correct = 0;
        for (var c = 0; c < k; c++)
        {
            for (var p = 0; p < k; p++) ClassCounts[c] += Confusion[c, p];
            correct += Confusion[c, c];
            PerClassAccuracy[c] = ClassCounts[c] == 0 ? double.NaN : (double)Confusion[c, c] / ClassCounts[c];
        }
        Top1 = (double)correct / Count;
    }

    /// <summary>The class names, indexed by class id.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Images scored.</summary>
    public int Count { get; }

    /// <summary>Fraction of images whose most likely class is the label.</summary>
    public double Top1 { get; }

    /// <summary>Accuracy within each true class (NaN for a class with no images).</summary>
    public double[] PerClassAccuracy { get; }

    /// <summary>Images of each true class.</summary>
    public long[] ClassCounts { get; }

    /// <summary>[true class, predicted class] → images.</summary>
    public long[,] Confusion { get; }
}
