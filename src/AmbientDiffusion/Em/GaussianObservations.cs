using AmbientDiffusion.Corruption;

namespace AmbientDiffusion.Em;

/// <summary>
/// Observations as the Gaussian fit reads them: N rows of D = C·H·W values in [-1, 1] units, removed pixels 0, a 0/1
/// mask per value (a one-channel mask repeated over the colours) and each row's noise level σ_n.
/// </summary>
public sealed record GaussianObservations(int Count, int Dim, double[] Values, byte[] Observed, double[] NoiseSigma)
{
    /// <summary>Every observation of a corrupted dataset, read through <see cref="CorruptedDataset.ReadSample"/> (which
    /// zeroes removed pixels, so nothing under a mask can reach the fit).</summary>
    public static GaussianObservations Read(CorruptedDataset data)
    {
        var (c, plane) = (data.Channels, data.Height * data.Width);
        var dim = c * plane;
        var values = new double[(long)data.Count * dim];
        var observed = new byte[(long)data.Count * dim];
        var sigmas = new double[data.Count];
        var observation = new float[dim];
        var mask = new float[data.MaskChannels * plane];
        for (var i = 0; i < data.Count; i++)
        {
            data.ReadSample(i, observation, mask);
            for (var k = 0; k < dim; k++)
            {
                var m = mask[(data.MaskChannels == 1 ? 0 : k / plane) * plane + k % plane];
                values[(long)i * dim + k] = observation[k];
                observed[(long)i * dim + k] = m > 0 ? (byte)1 : (byte)0;
            }
            sigmas[i] = data.NoiseSigma(i);
        }
        return new GaussianObservations(data.Count, dim, values, observed, sigmas);
    }

    /// <summary>Indices of the observed values of row <paramref name="i"/>.</summary>
    public int[] ObservedIndices(int i)
    {
        var row = Observed.AsSpan(i * Dim, Dim);
        var indices = new List<int>(Dim);
        for (var k = 0; k < Dim; k++)
            if (row[k] != 0) indices.Add(k);
        return [.. indices];
    }
}
