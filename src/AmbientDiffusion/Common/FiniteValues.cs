using System.Globalization;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Common;

/// <summary>
/// The one check that weights and inputs hold only finite numbers, made once per load with a single reduction per
/// tensor (<c>isfinite().all()</c>; the counts are taken only when it fails). A NaN weight otherwise flows silently into
/// black images or meaningless metrics, so every reader of weights (checkpoints, classifiers) and of float inputs
/// (features, measurements, noisy observations) refuses them with an <see cref="InvalidDataException"/> naming the
/// file and the tensor. Integer and bool tensors always pass.
/// </summary>
public static class FiniteValues
{
    /// <summary>Null when every value of <paramref name="values"/> is finite, else what is wrong ("12 NaN values and
    /// 3 infinite values of 4096").</summary>
    public static string? Problem(Tensor values)
    {
        if (!values.dtype.IsFloatingPoint()) return null;
        using var scope = torch.NewDisposeScope();
        // In slices, so that a memory-mapped dataset of billions of values never needs a mask of its size.
        var flat = values.reshape(-1);
        var n = flat.numel();
        var finite = true;
        for (long start = 0; start < n && finite; start += Slice)
        {
            using var step = torch.NewDisposeScope();
            finite = flat.narrow(0, start, Math.Min(Slice, n - start)).isfinite().all().item<bool>();
        }
        if (finite) return null;
        long nan = 0, nonFinite = 0;
        for (long start = 0; start < n; start += Slice)
        {
            using var step = torch.NewDisposeScope();
            var part = flat.narrow(0, start, Math.Min(Slice, n - start));
            nan += part.isnan().sum().item<long>();
            nonFinite += part.isfinite().logical_not().sum().item<long>();
        }
        var infinite = nonFinite - nan;
        var parts = new List<string>();
        if (nan > 0) parts.Add(Count(nan, "NaN value"));
        if (infinite > 0) parts.Add(Count(infinite, "infinite value"));
        return $"{string.Join(" and ", parts)} of {n.ToString(CultureInfo.InvariantCulture)}";
    }

    private const long Slice = 1L << 24;

    /// <summary>Throws <see cref="InvalidDataException"/> "<paramref name="source"/>: tensor '<paramref name="name"/>'
    /// has 12 NaN values of 4096" unless every value is finite. <paramref name="source"/> names the file and what it
    /// is ("checkpoint runs/x/checkpoints/checkpoint-000000100.safetensors").</summary>
    public static void Require(Tensor values, string source, string name)
    {
        if (Problem(values) is { } problem)
            throw new InvalidDataException($"{source}: tensor '{name}' has {problem}; the file is unusable (was it written by a run that diverged?)");
    }

    /// <summary><see cref="Require(Tensor, string, string)"/> for the tensors <paramref name="names"/> of <paramref name="file"/>.</summary>
    public static void Require(SafeTensorsFile file, string what, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            using var scope = torch.NewDisposeScope();
            Require(file.GetTensor(name), $"{what} {file.Path}", name);
        }
    }

    private static string Count(long n, string noun) => $"{n.ToString(CultureInfo.InvariantCulture)} {noun}{(n == 1 ? "" : "s")}";
}
