using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Em;

/// <summary>A Gaussian over images of <see cref="Dim"/> values: its mean and either a full covariance (row-major D×D)
/// or a per-value variance.</summary>
public sealed record GaussianModel(int Dim, double[] Mean, double[]? Covariance, double[]? Variance)
{
    /// <summary>Whether the covariance is full.</summary>
    public bool IsFull => Covariance is not null;

    /// <summary>Σ[i, j] (0 off the diagonal of a diagonal model).</summary>
    public double At(int i, int j) => Covariance is { } full ? full[i * Dim + j] : i == j ? Variance![i] : 0;

    private const string MeanKey = "mean", CovarianceKey = "covariance", VarianceKey = "variance";

    /// <summary>Writes the model (float64 tensors) atomically.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> metadata)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>> { new(MeanKey, torch.tensor(Mean, [Dim])) };
        if (Covariance is not null) tensors.Add(new(CovarianceKey, torch.tensor(Covariance, [Dim, Dim])));
        else tensors.Add(new(VarianceKey, torch.tensor(Variance!, [Dim])));
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    public static GaussianModel Load(string path)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(path);
        var mean = file.GetTensor(MeanKey).data<double>().ToArray();
        return file.Contains(CovarianceKey)
            ? new GaussianModel(mean.Length, mean, file.GetTensor(CovarianceKey).data<double>().ToArray(), null)
            : new GaussianModel(mean.Length, mean, null, file.GetTensor(VarianceKey).data<double>().ToArray());
    }
}
