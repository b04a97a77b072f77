using System.Text;
using static AmbientDiffusion.Reporting.ChartText;

namespace AmbientDiffusion.Reporting;

/// <summary>One line of a <see cref="LineChart"/>: a name and its (x, y) points, drawn in the given order.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="Points">The points; non-finite ones are skipped (they break the line).</param>
public sealed record LineSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Several series against a shared x (e.g. memorization metrics against the corruption level p), as SVG or as a PNG
/// drawn by <see cref="RasterCanvas"/>. Both renderings share one layout: axes with "nice" ticks covering all points,
/// a legend at the top right, markers at every point.
/// </summary>
public sealed class LineChart
{
    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>The lines.</summary>
    public List<LineSeries> Series { get; init; } = [];

    /// <summary>Fixed y range (e.g. [0, 1] for fractions); null fits the data.</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; } = 400;

    private sealed record Layout(ChartAxis X, ChartAxis Y, double Left, double Right, double Top, double Bottom);

    private Layout Measure()
    {
        var points = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        var x = points.Length == 0 ? ChartAxis.Create(0, 1) : ChartAxis.Create(points.Min(p => p.X), points.Max(p => p.X));
        var y = YRange is { } range ? ChartAxis.Create(range.Min, range.Max, 5, exact: true)
            : points.Length == 0 ? ChartAxis.Create(0, 1) : ChartAxis.Create(points.Min(p => p.Y), points.Max(p => p.Y));
        return new Layout(x, y, 64, Width - 16, 32, Height - 44);
    }

    private IEnumerable<(int series, List<(double X, double Y)> run)> Runs(Layout layout)
    {
        for (var s = 0; s < Series.Count; s++)
        {
            var run = new List<(double, double)>();
            foreach (var (px, py) in Series[s].Points)
            {
                if (!double.IsFinite(px) || !double.IsFinite(py))
                {
                    if (run.Count > 0) yield return (s, run);
                    run = [];
                    continue;
                }
                run.Add((layout.X.Map(px, layout.Left, layout.Right), layout.Y.Map(py, layout.Bottom, layout.Top)));
            }
            if (run.Count > 0) yield return (s, run);
        }
    }

    /// <summary>A standalone &lt;svg&gt; element (XML-compatible).</summary>
    public string ToSvg()
    {
        var layout = Measure();
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>");
        svg.Append($"<text x=\"{N(Width / 2.0)}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">{Escape(Title)}</text>");
        HistogramChart.AppendAxes(svg, layout.X, layout.Y, layout.Left, layout.Right, layout.Top, layout.Bottom, XLabel, YLabel, Height);
        foreach (var (s, run) in Runs(layout))
        {
            svg.Append($"<polyline fill=\"none\" stroke=\"{Color(s)}\" stroke-width=\"2\" points=\"{string.Join(" ", run.Select(p => $"{N(p.X)},{N(p.Y)}"))}\"/>");
            foreach (var (px, py) in run)
                svg.Append($"<rect x=\"{N(px - 2.5)}\" y=\"{N(py - 2.5)}\" width=\"5\" height=\"5\" fill=\"{Color(s)}\"/>");
        }
        HistogramChart.AppendLegend(svg, Series.Select(s => s.Name).ToArray(), layout.Right);
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The chart drawn into an RGB canvas with the built-in bitmap font.</summary>
    public RasterCanvas Render()
    {
        var layout = Measure();
        var canvas = new RasterCanvas(Width, Height, (255, 255, 255));
        (byte, byte, byte) ink = (0x33, 0x33, 0x33), grid = (0xe5, 0xe5, 0xe5);
        var (l, r, t, b) = ((int)layout.Left, (int)layout.Right, (int)layout.Top, (int)layout.Bottom);
        for (var i = 0; i < layout.Y.Ticks.Count; i++)
        {
            var y = (int)Math.Round(layout.Y.Map(layout.Y.Ticks[i], layout.Bottom, layout.Top));
            canvas.Line(l, y, r, y, grid);
            canvas.Line(l - 4, y, l, y, ink);
            var label = layout.Y.Labels[i];
            canvas.Text(l - 7 - BitmapFont.MeasureWidth(label), y - 3, label, ink);
        }
        for (var i = 0; i < layout.X.Ticks.Count; i++)
        {
            var x = (int)Math.Round(layout.X.Map(layout.X.Ticks[i], layout.Left, layout.Right));
            canvas.Line(x, b, x, b + 4, ink);
            var label = layout.X.Labels[i];
            canvas.Text(x - BitmapFont.MeasureWidth(label) / 2, b + 8, label, ink);
        }
        canvas.Line(l, t, r, t, ink);
        canvas.Line(l, b, r, b, ink);
        canvas.Line(l, t, l, b, ink);
        canvas.Line(r, t, r, b, ink);
        canvas.Text((Width - BitmapFont.MeasureWidth(Title, 2)) / 2, 8, Title, ink, scale: 2);
        canvas.Text((l + r - BitmapFont.MeasureWidth(XLabel)) / 2, Height - 14, XLabel, ink);
        canvas.Text(8, (t + b + BitmapFont.MeasureWidth(YLabel)) / 2, YLabel, ink, vertical: true);
        foreach (var (s, run) in Runs(layout))
        {
            var color = Palette[s % Palette.Length];
            for (var i = 1; i < run.Count; i++) canvas.Line(run[i - 1].X, run[i - 1].Y, run[i].X, run[i].Y, color, thickness: 2);
            foreach (var (px, py) in run)
                canvas.FillRect((int)Math.Round(px) - 2, (int)Math.Round(py) - 2, (int)Math.Round(px) + 3, (int)Math.Round(py) + 3, color);
        }
        for (var s = 0; s < Series.Count; s++)
        {
            var y = 40 + 12 * s;
            canvas.FillRect(r - 130, y, r - 122, y + 8, Palette[s % Palette.Length]);
            canvas.Text(r - 116, y + 1, Series[s].Name, ink);
        }
        return canvas;
    }

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] ToPng() => Render().ToPng();
}
