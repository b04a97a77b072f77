using SP = ScottPlot;

namespace AmbientDiffusion.Reporting;

/// <summary>One histogram of an overlay: bin counts on the figure's shared bins.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="Counts">Counts per bin; drawn as fractions of their total so sets of different sizes compare.</param>
public sealed record HistogramSeries(string Name, IReadOnlyList<long> Counts);

/// <summary>Several histograms on the same equal bins of [Lo, Hi], each a step outline over a light fill, drawn as
/// fractions of their own totals; thresholds go in <see cref="Figure.References"/> as vertical lines.</summary>
public sealed class HistogramFigure : Figure
{
    /// <summary>A histogram figure; its y axis is the fraction of each set, linear.</summary>
    public HistogramFigure()
    {
        YLabel = "fraction";
        YScale = AxisScale.Linear;
    }

    /// <summary>Lower end of the first bin.</summary>
    public required double Lo { get; init; }

    /// <summary>Upper end of the last bin.</summary>
    public required double Hi { get; init; }

    /// <summary>The histograms, all with the same number of bins.</summary>
    public List<HistogramSeries> Series { get; init; } = [];

    /// <summary>Each series' counts as fractions of its total.</summary>
    public IReadOnlyList<double[]> Fractions()
    {
        var bins = Series.Count == 0 ? 1 : Series[0].Counts.Count;
        if (Series.Any(s => s.Counts.Count != bins)) throw new ArgumentException("every histogram of an overlay needs the same bins");
        return Series.Select(s =>
        {
            var total = Math.Max(1, s.Counts.Sum());
            return s.Counts.Select(c => (double)c / total).ToArray();
        }).ToList();
    }

    /// <inheritdoc />
    protected override (IEnumerable<double> Xs, IEnumerable<double> Ys) Extent() => ([Lo, Hi], Fractions().SelectMany(f => f).Append(0));

    /// <inheritdoc />
    protected override void Draw(SP.Plot plot, Transform transform)
    {
        var fractions = Fractions();
        for (var s = 0; s < fractions.Count; s++)
        {
            var bins = fractions[s].Length;
            var outline = new List<SP.Coordinates> { new(transform.X(Lo), 0) };
            for (var b = 0; b < bins; b++)
            {
                outline.Add(new(transform.X(Lo + (Hi - Lo) * b / bins), fractions[s][b]));
                outline.Add(new(transform.X(Lo + (Hi - Lo) * (b + 1) / bins), fractions[s][b]));
            }
            outline.Add(new(transform.X(Hi), 0));
            var polygon = plot.Add.Polygon(outline.ToArray());
            polygon.FillColor = Color(s).WithAlpha(0.12);
            polygon.LineColor = Color(s);
            polygon.LineWidth = 1.5f;
            polygon.LegendText = Series[s].Name;
        }
        plot.Axes.SetLimitsX(transform.X(Lo), transform.X(Hi));
        plot.Axes.SetLimitsY(0, Math.Max(1e-9, fractions.SelectMany(f => f).DefaultIfEmpty(0).Max()) * 1.1);
    }
}
