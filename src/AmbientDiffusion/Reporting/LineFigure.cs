using SP = ScottPlot;

namespace AmbientDiffusion.Reporting;

/// <summary>One point of a line: x, the mean y and its spread: the standard deviation over seeds where several were
/// averaged, or a confidence interval [Lo, Hi] (a bootstrap interval of one run), drawn in place of ± sd.</summary>
/// <param name="X">Position on the x axis.</param>
/// <param name="Y">Value (the mean over seeds where there are several).</param>
/// <param name="Sd">Standard deviation over seeds; null where there is one value.</param>
/// <param name="Lo">Lower bound of an interval around Y, or null.</param>
/// <param name="Hi">Upper bound of an interval around Y, or null.</param>
public sealed record LinePoint(double X, double Y, double? Sd = null, double? Lo = null, double? Hi = null)
{
    /// <summary>Whether the point has a spread to draw.</summary>
    public bool HasSpread => Sd is > 0 || Lo is not null || Hi is not null;

    /// <summary>The spread's lower end: the interval's bound, else mean − sd, else the value.</summary>
    public double Low => Lo ?? Y - (Sd ?? 0);

    /// <summary>The spread's upper end: the interval's bound, else mean + sd, else the value.</summary>
    public double High => Hi ?? Y + (Sd ?? 0);
}

/// <summary>How a series' spread over seeds is drawn.</summary>
public enum SpreadStyle
{
    /// <summary>A shaded band from mean − sd to mean + sd.</summary>
    Band,

    /// <summary>An error bar of ± sd at each point.</summary>
    ErrorBars,
}

/// <summary>One line: a legend name and its points, joined in the given order; a non-finite point breaks the line.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="Points">The points.</param>
/// <param name="Spread">How the points' standard deviations are drawn.</param>
public sealed record LineSeries(string Name, IReadOnlyList<LinePoint> Points, SpreadStyle Spread = SpreadStyle.Band)
{
    /// <summary>A series of plain (x, y) points without spread.</summary>
    public LineSeries(string name, IReadOnlyList<(double X, double Y)> points) : this(name, points.Select(p => new LinePoint(p.X, p.Y)).ToList()) { }
}

/// <summary>Several lines against a shared x (metrics against p, against the generation), each with markers at its
/// points and, where several seeds were averaged, a mean ± sd band or error bars in its colour.</summary>
public sealed class LineFigure : Figure
{
    /// <summary>The lines.</summary>
    public List<LineSeries> Series { get; init; } = [];

    /// <inheritdoc />
    protected override (IEnumerable<double> Xs, IEnumerable<double> Ys) Extent() =>
        (Series.SelectMany(s => s.Points.Select(p => p.X)),
         Series.SelectMany(s => s.Points.SelectMany(p => p.HasSpread && p.Low > 0 ? new[] { p.Y, p.Low, p.High } : [p.Y])));

    /// <inheritdoc />
    protected override void Draw(SP.Plot plot, Transform transform)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            var color = Color(s);
            var named = false;
            foreach (var run in Runs(Series[s].Points, transform))
            {
                var xs = run.Select(p => transform.X(p.X)).ToArray();
                var ys = run.Select(p => transform.Y(p.Y)).ToArray();
                var spread = run.Where(p => p.HasSpread).ToList();
                if (spread.Count > 0 && Series[s].Spread == SpreadStyle.Band)
                {
                    // Where a point has no spread the band closes to the line itself.
                    var low = run.Select(p => transform.Y(p.Low)).Select((v, i) => double.IsFinite(v) ? v : ys[i]).ToArray();
                    var high = run.Select(p => transform.Y(p.High)).ToArray();
                    var band = plot.Add.FillY(xs, low, high);
                    band.FillColor = color.WithAlpha(0.18);
                    band.LineWidth = 0;
                    band.LegendText = "";
                }
                else if (spread.Count > 0)
                {
                    var up = run.Select((p, i) => transform.Y(p.High) - ys[i]).ToArray();
                    var down = run.Select((p, i) => ys[i] - transform.Y(p.Low)).Select((v, i) => double.IsFinite(v) ? v : 0).ToArray();
                    var bars = plot.Add.ErrorBar(xs, ys, up);
                    bars.YErrorNegative = down;
                    bars.Color = color;
                    bars.LineWidth = 1.5f;
                    bars.CapSize = 6;
                }
                var line = plot.Add.Scatter(xs, ys, color);
                line.LineWidth = 2;
                line.MarkerSize = 6;
                line.MarkerShape = SP.MarkerShape.FilledSquare;
                if (!named) line.LegendText = Series[s].Name;
                named = true;
            }
        }
    }

    /// <summary>The runs of consecutive points that are finite after the transform.</summary>
    private static IEnumerable<List<LinePoint>> Runs(IReadOnlyList<LinePoint> points, Transform transform)
    {
        var run = new List<LinePoint>();
        foreach (var p in points)
        {
            if (!double.IsFinite(transform.X(p.X)) || !double.IsFinite(transform.Y(p.Y)))
            {
                if (run.Count > 0) yield return run;
                run = [];
                continue;
            }
            run.Add(p);
        }
        if (run.Count > 0) yield return run;
    }
}
