using SP = ScottPlot;

namespace AmbientDiffusion.Reporting;

/// <summary>A labelled point of a trade-off chart, with its spread over seeds on either axis.</summary>
/// <param name="X">Position on the x axis (a mean where several seeds exist).</param>
/// <param name="Y">Position on the y axis.</param>
/// <param name="Label">Text written beside the point (e.g. the setting it was measured at); empty for none.</param>
/// <param name="XSd">Standard deviation of x over seeds; null where there is one value.</param>
/// <param name="YSd">Standard deviation of y over seeds; null where there is one value.</param>
public sealed record LabelledPoint(double X, double Y, string Label = "", double? XSd = null, double? YSd = null);

/// <summary>One group of labelled points, drawn in one colour and listed once in the legend.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="Points">The points.</param>
/// <param name="Connect">Whether a line joins the points in the given order (a frontier), or they stand alone.</param>
public sealed record ScatterSeries(string Name, IReadOnlyList<LabelledPoint> Points, bool Connect = false);

/// <summary>A trade-off chart: points with their labels and ± sd error bars on both axes (quality against
/// memorization, accuracy against cost), one colour per series.</summary>
public sealed class ScatterFigure : Figure
{
    /// <summary>The groups of points.</summary>
    public List<ScatterSeries> Series { get; init; } = [];

    /// <inheritdoc />
    protected override (IEnumerable<double> Xs, IEnumerable<double> Ys) Extent() =>
        (Series.SelectMany(s => s.Points.Select(p => p.X)), Series.SelectMany(s => s.Points.Select(p => p.Y)));

    /// <inheritdoc />
    protected override void Draw(SP.Plot plot, Transform transform)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            var color = Color(s);
            var points = Series[s].Points.Where(p => double.IsFinite(transform.X(p.X)) && double.IsFinite(transform.Y(p.Y))).ToList();
            if (points.Count == 0) continue;
            var xs = points.Select(p => transform.X(p.X)).ToArray();
            var ys = points.Select(p => transform.Y(p.Y)).ToArray();
            if (points.Any(p => p.XSd is > 0 || p.YSd is > 0))
            {
                static double Gap(double outer, double inner) => double.IsFinite(outer) ? Math.Abs(outer - inner) : 0;
                var bars = plot.Add.ErrorBar(xs, ys, points.Select((p, i) => Gap(transform.Y(p.Y + (p.YSd ?? 0)), ys[i])).ToArray());
                bars.YErrorNegative = points.Select((p, i) => Gap(transform.Y(p.Y - (p.YSd ?? 0)), ys[i])).ToArray();
                bars.XErrorPositive = points.Select((p, i) => Gap(transform.X(p.X + (p.XSd ?? 0)), xs[i])).ToArray();
                bars.XErrorNegative = points.Select((p, i) => Gap(transform.X(p.X - (p.XSd ?? 0)), xs[i])).ToArray();
                bars.Color = color;
                bars.LineWidth = 1.2f;
                bars.CapSize = 5;
            }
            var marks = plot.Add.Scatter(xs, ys, color);
            marks.LineWidth = Series[s].Connect ? 1.5f : 0;
            marks.MarkerSize = 8;
            marks.MarkerShape = SP.MarkerShape.FilledCircle;
            marks.LegendText = Series[s].Name;
            for (var i = 0; i < points.Count; i++)
            {
                if (points[i].Label.Length == 0) continue;
                var text = plot.Add.Text(points[i].Label, xs[i], ys[i]);
                text.LabelFontName = ReportFont.Name;
                text.LabelFontSize = 11;
                text.LabelFontColor = color;
                text.LabelAlignment = SP.Alignment.LowerLeft;
                text.LabelOffsetX = 6;
                text.LabelOffsetY = -4;
            }
        }
    }
}
