using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AmbientDiffusion.Torch.IO;
using SP = ScottPlot;

namespace AmbientDiffusion.Reporting;

/// <summary>How an axis maps values: linearly, logarithmically, or logarithmically only when the values span decades.</summary>
public enum AxisScale
{
    /// <summary>Log when every value drawn is positive and the largest is at least 100 times the smallest, else linear.</summary>
    Auto,

    /// <summary>Linear.</summary>
    Linear,

    /// <summary>Base-10 logarithmic (non-positive values are left out).</summary>
    Log,
}

/// <summary>A reference line across the plot: a floor, a threshold, chance level, with its label in the legend.</summary>
/// <param name="Value">Where it crosses its axis.</param>
/// <param name="Label">Legend entry (empty: not listed).</param>
/// <param name="Vertical">True for a line at x = Value, false for one at y = Value.</param>
public sealed record ReferenceLine(double Value, string Label, bool Vertical = false);

/// <summary>
/// What every chart shares (title, axis labels, linear or log axes, fixed ranges, reference lines, legend, size) and
/// its rendering through ScottPlot in the embedded <see cref="ReportFont"/>, as PNG or SVG. A subclass only adds its
/// plottables in data coordinates through <see cref="Transform"/>, so log axes work alike for every kind of chart.
/// </summary>
public abstract class Figure
{
    /// <summary>Series colours (colour-blind friendly), cycled.</summary>
    public static readonly IReadOnlyList<string> Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    /// <summary>Title above the plot.</summary>
    public string Title { get; set; } = "";

    /// <summary>Label of the x axis.</summary>
    public string XLabel { get; set; } = "";

    /// <summary>Label of the y axis.</summary>
    public string YLabel { get; set; } = "";

    /// <summary>Scale of the x axis.</summary>
    public AxisScale XScale { get; set; } = AxisScale.Linear;

    /// <summary>Scale of the y axis.</summary>
    public AxisScale YScale { get; set; } = AxisScale.Auto;

    /// <summary>Fixed x range in data units; null fits the data.</summary>
    public (double Min, double Max)? XRange { get; set; }

    /// <summary>Fixed y range in data units (e.g. [0, 1] for fractions); null fits the data.</summary>
    public (double Min, double Max)? YRange { get; set; }

    /// <summary>Reference lines (floors, thresholds).</summary>
    public List<ReferenceLine> References { get; set; } = [];

    /// <summary>Width of the plot in pixels; a legend of many or long entries adds its own column to the right.</summary>
    public int Width { get; set; } = 640;

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; } = 400;

    /// <summary>The x and y values the chart draws (before any transform), to decide <see cref="AxisScale.Auto"/>.</summary>
    protected abstract (IEnumerable<double> Xs, IEnumerable<double> Ys) Extent();

    /// <summary>Adds the chart's plottables to <paramref name="plot"/>, mapping data through <paramref name="transform"/>.</summary>
    protected abstract void Draw(SP.Plot plot, Transform transform);

    /// <summary>The chart as PNG bytes (the same bytes on every machine).</summary>
    public byte[] ToPng()
    {
        var (plot, names) = Build();
        using (plot) return plot.GetImageBytes(RenderWidth(names), Height, SP.ImageFormat.Png);
    }

    /// <summary>The chart as a standalone &lt;svg&gt; element, XML-compatible (embeddable in XHTML), without an XML declaration.</summary>
    public string ToSvg()
    {
        var (plot, names) = Build();
        using var owned = plot;
        var svg = plot.GetSvgXml(RenderWidth(names), Height);
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return StableIds(start > 0 ? svg[start..] : svg);
    }

    /// <summary>
    /// Skia numbers an SVG's clip paths from a process-wide counter, so the same chart would differ from render to
    /// render, and two charts inlined in one page could share an id. The ids are renumbered in document order and
    /// prefixed with a hash of the renumbered chart: the same chart gives the same text, different charts distinct ids.
    /// Text elements lose the indentation around their content (<c>&gt;ambient&lt;</c>, as a reader searches for it).
    /// </summary>
    private static string StableIds(string svg)
    {
        var ids = Regex.Matches(svg, "id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        string Renumber(string text, Func<int, string> name)
        {
            for (var i = 0; i < ids.Count; i++)
                text = text.Replace($"id=\"{ids[i]}\"", $"id=\"{{{i}}}\"", StringComparison.Ordinal).Replace($"#{ids[i]})", $"#{{{i}}})", StringComparison.Ordinal);
            for (var i = 0; i < ids.Count; i++)
                text = text.Replace($"{{{i}}}", name(i), StringComparison.Ordinal);
            return text;
        }
        // Skia indents a text element's content; SVG drops that whitespace when drawing, so it goes here too.
        svg = Regex.Replace(svg, "(<text[^>]*>)\\s*([^<]*?)\\s*</text>", "$1$2</text>");
        var numbered = Renumber(svg, i => $"c{i}");
        var prefix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(numbered)))[..8];
        return Renumber(svg, i => $"f{prefix}-{i}");
    }

    /// <summary>Writes <c>&lt;stem&gt;.png</c> and <c>&lt;stem&gt;.svg</c> into <paramref name="folder"/>, each atomically.</summary>
    public void Write(string folder, string stem)
    {
        var (png, svg) = (ToPng(), ToSvg());
        AtomicFile.WriteAllBytes(Path.Combine(folder, stem + ".png"), png);
        AtomicFile.WriteAllBytes(Path.Combine(folder, stem + ".svg"), Encoding.UTF8.GetBytes(svg));
    }

    private (SP.Plot Plot, List<string> LegendNames) Build()
    {
        ReportFont.UseInScottPlot();
        var (xs, ys) = Extent();
        var transform = new Transform(Resolve(XScale, xs, XRange), Resolve(YScale, ys, YRange));
        var plot = new SP.Plot();
        plot.Font.Set(ReportFont.Name);
        plot.FigureBackground.Color = SP.Colors.White;
        plot.DataBackground.Color = SP.Colors.White;
        plot.Grid.MajorLineColor = SP.Color.FromHex("#e5e5e5");
        if (Title.Length > 0) plot.Title(Title, 15);
        plot.XLabel(XLabel, 13);
        plot.YLabel(YLabel, 13);
        Draw(plot, transform);
        for (var i = 0; i < References.Count; i++)
        {
            var reference = References[i];
            var color = SP.Color.FromHex("#555555");
            var pattern = i % 2 == 0 ? SP.LinePattern.Dashed : SP.LinePattern.Dotted;
            SP.Plottables.AxisLine line = reference.Vertical
                ? plot.Add.VerticalLine(transform.X(reference.Value), 1.5f, color, pattern)
                : plot.Add.HorizontalLine(transform.Y(reference.Value), 1.5f, color, pattern);
            line.LegendText = reference.Label;
            line.ExcludeFromLegend = reference.Label.Length == 0;
        }
        Axis(plot.Axes.Bottom, transform.LogX);
        Axis(plot.Axes.Left, transform.LogY);
        // A fixed range is padded by 3% so that points on its ends (a fraction of 0 or 1) stay whole.
        if (XRange is { } xr)
        {
            var (min, max) = Padded(transform.X(xr.Min), transform.X(xr.Max));
            plot.Axes.SetLimitsX(min, max);
        }
        if (YRange is { } yr)
        {
            var (min, max) = Padded(transform.Y(yr.Min), transform.Y(yr.Max));
            plot.Axes.SetLimitsY(min, max);
        }
        plot.Legend.FontName = ReportFont.Name;
        plot.Legend.FontSize = LegendSize;
        var names = plot.Legend.GetItems().Select(i => i.LabelText ?? "").Where(n => n.Length > 0).ToList();
        if (names.Count == 0) plot.HideLegend();
        else if (Outside(names)) plot.ShowLegend(SP.Edge.Right);
        else plot.ShowLegend(SP.Alignment.UpperRight).BackgroundColor = SP.Colors.White.WithAlpha(0.85);
        return (plot, names);
    }

    private const float LegendSize = 11;

    /// <summary>Many or long legend entries go beside the plot, where they cannot hide data; a few short ones sit inside.</summary>
    private static bool Outside(IReadOnlyList<string> names) => names.Count > 4 || names.Any(n => n.Length > 28);

    /// <summary>The rendered width: <see cref="Width"/> for the plot, plus the legend's own column when it stands outside.</summary>
    private int RenderWidth(IReadOnlyList<string> names) =>
        !Outside(names) ? Width : Width + (int)Math.Ceiling(names.Max(n => Picture.TextWidth(n, LegendSize))) + 48;

    private static (double Min, double Max) Padded(double min, double max)
    {
        var pad = 0.03 * (max - min);
        return (min - pad, max + pad);
    }

    /// <summary>Ticks at whole decades labelled with their value, and minor ticks at 2..9 times each decade.</summary>
    private static void Axis(SP.IAxis axis, bool log)
    {
        if (!log) return;
        axis.TickGenerator = new SP.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new SP.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("G4", CultureInfo.InvariantCulture),
        };
    }

    private static bool Resolve(AxisScale scale, IEnumerable<double> values, (double Min, double Max)? range)
    {
        if (scale != AxisScale.Auto) return scale == AxisScale.Log;
        var finite = values.Where(double.IsFinite).ToList();
        if (range is { } r) finite.AddRange([r.Min, r.Max]);
        return finite.Count > 1 && finite.All(v => v > 0) && finite.Max() >= 100 * finite.Min();
    }

    /// <summary>Data to plot coordinates: log10 on a log axis (non-positive values become NaN, which breaks a line).</summary>
    protected sealed record Transform(bool LogX, bool LogY)
    {
        /// <summary>An x value in plot coordinates.</summary>
        public double X(double x) => LogX ? (x > 0 ? Math.Log10(x) : double.NaN) : x;

        /// <summary>A y value in plot coordinates.</summary>
        public double Y(double y) => LogY ? (y > 0 ? Math.Log10(y) : double.NaN) : y;
    }

    /// <summary>Palette colour <paramref name="index"/>.</summary>
    protected static SP.Color Color(int index) => SP.Color.FromHex(Palette[index % Palette.Count]);
}
