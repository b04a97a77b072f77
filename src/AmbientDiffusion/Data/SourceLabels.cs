namespace AmbientDiffusion.Data;

/// <summary>
/// The class of every item of an image source: <see cref="Ids"/>[i] is the class id of item i, an index into
/// <see cref="ClassNames"/>. Sources without labels have none (null), and prepared datasets then carry none.
/// </summary>
/// <param name="Ids">One class id per source item.</param>
/// <param name="ClassNames">The class names, indexed by id.</param>
public sealed record SourceLabels(int[] Ids, IReadOnlyList<string> ClassNames)
{
    /// <summary>Fashion-MNIST's ten classes, in label order.</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Throws, naming <paramref name="where"/> (the labels' file) and the item, when an id is outside the class list.</summary>
    public SourceLabels Validated(string where)
    {
        if (ClassNames.Count == 0) throw new InvalidDataException($"{where}: no class names");
        for (var i = 0; i < Ids.Length; i++)
            if ((uint)Ids[i] >= (uint)ClassNames.Count)
                throw new InvalidDataException($"{where}: label {Ids[i]} of item {i} is out of range (expected 0 to {ClassNames.Count - 1})");
        return this;
    }
}
