using System.Text;
using static AmbientDiffusion.Reporting.ChartText;

namespace AmbientDiffusion.Reporting;

/// <summary>One histogram of an overlay: bin counts on the chart's shared bins.</summary>
/// <param name="Name">Legend entry.</param>
/// <param name="Counts">Counts per bin; drawn as fractions of their total so sets of different sizes compare.</param>
public sealed record HistogramSeries(string Name, IReadOnlyList<long> Counts);

/// <summary>Several histograms on the same equal bins of [Lo, Hi], drawn as step outlines, as an SVG fragment.</summary>
public sealed class HistogramChart
{
    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; init; } = "fraction";

    /// <summary>Lower end of the first bin.</summary>
    public required double Lo { get; init; }

    /// <summary>Upper end of the last bin.</summary>
    public required double Hi { get; init; }

    /// <summary>The histograms, all with the same number of bins.</summary>
    public List<HistogramSeries> Series { get; init; } = [];

    /// <summary>Vertical reference lines (e.g. thresholds), with labels.</summary>
    public List<(double X, string Label)> Markers { get; init; } = [];

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; } = 480;

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; } = 300;

    /// <summary>A standalone &lt;svg&gt; element (XML-compatible, so it can be embedded in XHTML).</summary>
    public string ToSvg()
    {
        var bins = Series.Count == 0 ? 1 : Series[0].Counts.Count;
        if (Series.Any(s => s.Counts.Count != bins)) throw new ArgumentException("every histogram of an overlay needs the same bins");
        var fractions = Series.Select(s =>
        {
            var total = Math.Max(1, s.Counts.Sum());
            return s.Counts.Select(c => (double)c / total).ToArray();
        }).ToArray();
        var top = fractions.SelectMany(f => f).DefaultIfEmpty(0).Max();
        var x = ChartAxis.Create(Lo, Hi, 5, exact: true);
        var y = ChartAxis.Create(0, top > 0 ? top : 1, 4);
        var (left, right, upper, lower) = (56.0, Width - 12.0, 28.0, Height - 40.0);
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>");
        svg.Append($"<text x=\"{N(Width / 2.0)}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">{Escape(Title)}</text>");
        AppendAxes(svg, x, y, left, right, upper, lower, XLabel, YLabel, Height);
        foreach (var (mx, label) in Markers)
        {
            if (mx < x.Min || mx > x.Max) continue;
            var px = N(x.Map(mx, left, right));
            svg.Append($"<line x1=\"{px}\" y1=\"{N(upper)}\" x2=\"{px}\" y2=\"{N(lower)}\" stroke=\"#999999\" stroke-dasharray=\"3,3\"/>");
            svg.Append($"<text x=\"{px}\" y=\"{N(upper - 2)}\" text-anchor=\"middle\" fill=\"#666666\" font-size=\"9\">{Escape(label)}</text>");
        }
        for (var s = 0; s < fractions.Length; s++)
        {
            var points = new StringBuilder();
            var baseline = N(y.Map(0, lower, upper));
            points.Append($"{N(x.Map(Lo, left, right))},{baseline}");
            for (var b = 0; b < bins; b++)
            {
                var x0 = N(x.Map(Lo + (Hi - Lo) * b / bins, left, right));
                var x1 = N(x.Map(Lo + (Hi - Lo) * (b + 1) / bins, left, right));
                var py = N(y.Map(fractions[s][b], lower, upper));
                points.Append($" {x0},{py} {x1},{py}");
            }
            points.Append($" {N(x.Map(Hi, left, right))},{baseline}");
            svg.Append($"<polyline fill=\"{Color(s)}\" fill-opacity=\"0.12\" stroke=\"{Color(s)}\" stroke-width=\"1.5\" points=\"{points}\"/>");
        }
        AppendLegend(svg, Series.Select(s => s.Name).ToArray(), right);
        svg.Append("</svg>");
        return svg.ToString();
    }

    internal static void AppendAxes(StringBuilder svg, ChartAxis x, ChartAxis y, double left, double right, double upper, double lower, string xLabel, string yLabel, int height)
    {
        svg.Append($"<rect x=\"{N(left)}\" y=\"{N(upper)}\" width=\"{N(right - left)}\" height=\"{N(lower - upper)}\" fill=\"none\" stroke=\"#333333\"/>");
        for (var i = 0; i < x.Ticks.Count; i++)
        {
            var px = N(x.Map(x.Ticks[i], left, right));
            svg.Append($"<line x1=\"{px}\" y1=\"{N(lower)}\" x2=\"{px}\" y2=\"{N(lower + 4)}\" stroke=\"#333333\"/>");
            svg.Append($"<text x=\"{px}\" y=\"{N(lower + 15)}\" text-anchor=\"middle\">{x.Labels[i]}</text>");
        }
        for (var i = 0; i < y.Ticks.Count; i++)
        {
            var py = N(y.Map(y.Ticks[i], lower, upper));
            svg.Append($"<line x1=\"{N(left - 4)}\" y1=\"{py}\" x2=\"{N(right)}\" y2=\"{py}\" stroke=\"#e5e5e5\"/>");
            svg.Append($"<text x=\"{N(left - 6)}\" y=\"{N(y.Map(y.Ticks[i], lower, upper) + 4)}\" text-anchor=\"end\">{y.Labels[i]}</text>");
        }
        svg.Append($"<text x=\"{N((left + right) / 2)}\" y=\"{N(height - 6)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.Append($"<text x=\"12\" y=\"{N((upper + lower) / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {N((upper + lower) / 2)})\">{Escape(yLabel)}</text>");
    }

    internal static void AppendLegend(StringBuilder svg, IReadOnlyList<string> names, double right)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var ly = 40 + 14 * i;
            svg.Append($"<rect x=\"{N(right - 130)}\" y=\"{N(ly - 8)}\" width=\"10\" height=\"10\" fill=\"{Color(i)}\"/>");
            svg.Append($"<text x=\"{N(right - 116)}\" y=\"{N(ly + 1)}\">{Escape(names[i])}</text>");
        }
    }
}
