using System.Globalization;
using System.Text;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// Every sample's nearest-neighbour scores in every feature space, written as <c>per_sample.csv</c> so users can filter
/// samples (drop likely copies before sharing a synthetic set, say): the sample's index, then per space d1, d2, d1/d2
/// and the nearest training index (distance spaces), or the top-1 cosine and the nearest training index (cosine spaces).
/// </summary>
public sealed class PerSampleScores
{
    /// <summary>File name in the report directory.</summary>
    public const string FileName = "per_sample.csv";

    private readonly List<(string Name, bool Cosine, long Dimension, KnnResult Knn)> _spaces = [];

    /// <summary>Adds the samples' search in one space.</summary>
    public void Add(string space, FeatureMetricKind metric, long dimension, KnnResult samples)
    {
        if (_spaces.Count > 0 && _spaces[0].Knn.Queries != samples.Queries)
            throw new ArgumentException($"space {space}: {samples.Queries} samples, the other spaces have {_spaces[0].Knn.Queries}");
        _spaces.Add((space, metric == FeatureMetricKind.Cosine, dimension, samples));
    }

    /// <summary>The CSV text (header line, one line per sample, "\n" line ends, invariant numbers).</summary>
    public string ToCsv()
    {
        var csv = new StringBuilder("sample");
        foreach (var (name, cosine, _, _) in _spaces)
            csv.Append(cosine ? $",{name}_cos1,{name}_nn" : $",{name}_d1,{name}_d2,{name}_ratio,{name}_nn");
        csv.Append('\n');
        var queries = _spaces.Count == 0 ? 0 : _spaces[0].Knn.Queries;
        for (var i = 0; i < queries; i++)
        {
            csv.Append(i.ToString(CultureInfo.InvariantCulture));
            foreach (var (_, cosine, dimension, knn) in _spaces)
            {
                var nearest = knn.Index(i, 0).ToString(CultureInfo.InvariantCulture);
                if (cosine)
                {
                    csv.Append(',').Append(Number(Math.Clamp(1 - knn.SquaredDistance(i, 0) / 2.0, -1, 1))).Append(',').Append(nearest);
                    continue;
                }
                var d1 = MemorizationStatistics.Rms(knn.SquaredDistance(i, 0), dimension);
                var d2 = knn.K > 1 ? MemorizationStatistics.Rms(knn.SquaredDistance(i, 1), dimension) : double.NaN;
                csv.Append(',').Append(Number(d1)).Append(',').Append(Number(d2)).Append(',').Append(Number(d2 > 0 ? d1 / d2 : 0)).Append(',').Append(nearest);
            }
            csv.Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/> atomically.</summary>
    public void Write(string directory) => AtomicFile.WriteAllBytes(Path.Combine(directory, FileName), Encoding.UTF8.GetBytes(ToCsv()));

    private static string Number(double value) => double.IsNaN(value) ? "" : value.ToString("G6", CultureInfo.InvariantCulture);
}
