using AmbientDiffusion.Models;

namespace AmbientDiffusion.Diffusion;

/// <summary>
/// Which class each sample of a class-conditional model is drawn for: a function of the sample's seed alone, so a
/// sample's image depends on (seed, class, guidance) only, whatever the batch, order or number of workers. Balanced
/// selection gives seed s the class s mod label_dim (N·K consecutive seeds hold N samples of each of K classes); a fixed
/// class gives every sample that class.
/// </summary>
public static class SampleClasses
{
    /// <summary>The classes of <paramref name="seeds"/> for a model of <paramref name="labelDim"/> classes:
    /// <paramref name="fixedClass"/> for all, or balanced when it is null. A class out of range is an error naming it.</summary>
    public static long[] For(IReadOnlyList<ulong> seeds, int labelDim, int? fixedClass)
    {
        if (labelDim < 1) throw new ArgumentException($"class selection needs a class-conditional model, this one has label_dim = {labelDim}");
        if (fixedClass is { } k && (k < 0 || k >= labelDim))
            throw new ArgumentOutOfRangeException(nameof(fixedClass), k, $"class {k} is out of range: the model has {labelDim} classes (0 to {labelDim - 1})");
        return seeds.Select(s => fixedClass ?? (long)(s % (ulong)labelDim)).ToArray();
    }

    /// <summary>Checks every id of <paramref name="classes"/> against <paramref name="labelDim"/> (<see cref="ClassLabels.Null"/> allowed).</summary>
    public static void Check(IReadOnlyList<long> classes, int labelDim)
    {
        foreach (var k in classes)
            if (k != ClassLabels.Null && (k < 0 || k >= labelDim))
                throw new ArgumentOutOfRangeException(nameof(classes), k, $"class {k} is out of range: the model has {labelDim} classes (0 to {labelDim - 1})");
    }
}
