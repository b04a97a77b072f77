using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Models;

/// <summary>
/// The class conditioning a network takes: one-hot float rows [B, LabelDim], where an all-zero row is the null label
/// (EDM's convention; the unconditional branch of classifier-free guidance and the target of label dropout).
/// </summary>
public static class ClassLabels
{
    /// <summary>The class id that stands for the null label in id lists.</summary>
    public const long Null = -1;

    /// <summary>One-hot rows for <paramref name="ids"/> (<see cref="Null"/> gives an all-zero row), float32 [B, labelDim]
    /// on <paramref name="device"/>. An id outside [0, labelDim) is an error naming the value and the bound.</summary>
    public static Tensor OneHot(IReadOnlyList<long> ids, int labelDim, Device? device = null)
    {
        if (labelDim < 1) throw new ArgumentException($"one-hot class labels need a label dimension of at least 1, got {labelDim}");
        var values = new float[ids.Count * labelDim];
        for (var b = 0; b < ids.Count; b++)
        {
            var id = ids[b];
            if (id == Null) continue;
            if (id < 0 || id >= labelDim)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"class id {id} is out of range: the model has {labelDim} classes (ids 0 to {labelDim - 1})");
            values[b * labelDim + id] = 1f;
        }
        return torch.tensor(values, [ids.Count, labelDim], device ?? Device.CPU);
    }

    /// <summary>All-zero (null-label) rows, float32 [count, labelDim].</summary>
    public static Tensor Nulls(int count, int labelDim, Device? device = null) => torch.zeros([count, labelDim], ScalarType.Float32, device ?? Device.CPU);
}
