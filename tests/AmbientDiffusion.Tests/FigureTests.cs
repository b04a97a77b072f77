using System.Xml.Linq;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using SkiaSharp;

namespace AmbientDiffusion.Tests;

/// <summary>The chart layer over ScottPlot: identical bytes on every render, real text in the embedded font, spread
/// over seeds as bands or error bars, log axes where values span decades, histograms, trade-off scatters, ROC curves.</summary>
public class FigureTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static LineFigure Sweep(SpreadStyle spread = SpreadStyle.Band, bool withSd = true) => new()
    {
        Title = "Memorization vs corruption",
        XLabel = "p (fraction of pixels removed)",
        YLabel = "fraction of samples",
        YRange = (0, 1),
        Series =
        [
            new LineSeries("d1/d2 < 1/3", [new(0, 0.62, withSd ? 0.05 : null), new(0.4, 0.31, withSd ? 0.04 : null), new(0.6, 0.12, withSd ? 0.03 : null), new(0.8, 0.02), new(0.9, 0.0)], spread),
            new LineSeries("cosine > 0.95", [(0, 0.8), (0.4, 0.5), (0.6, double.NaN), (0.8, 0.05), (0.9, 0.01)]),
        ],
        References = [new ReferenceLine(0.5, "held-out baseline")],
    };

    private static List<string> Texts(Figure figure) => XDocument.Parse(figure.ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();

    private static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new InvalidDataException("not a PNG");

    private static int Count(SKBitmap bitmap, Func<SKColor, bool> match, SKRectI? area = null)
    {
        var r = area ?? new SKRectI(0, 0, bitmap.Width, bitmap.Height);
        var count = 0;
        for (var y = r.Top; y < r.Bottom; y++)
            for (var x = r.Left; x < r.Right; x++)
                if (match(bitmap.GetPixel(x, y))) count++;
        return count;
    }

    private static bool Near(SKColor c, (int R, int G, int B) target, int tolerance) =>
        Math.Abs(c.Red - target.R) <= tolerance && Math.Abs(c.Green - target.G) <= tolerance && Math.Abs(c.Blue - target.B) <= tolerance;

    [Fact]
    public void A_chart_renders_to_the_same_png_bytes_twice_and_its_title_is_drawn_in_the_embedded_font()
    {
        Assert.Equal("DejaVu Sans", ReportFont.Typeface.FamilyName);
        var png = Sweep().ToPng();
        Assert.Equal(png, Sweep().ToPng());
        using var bitmap = Decode(png);
        Assert.Equal((640, 400), (bitmap.Width, bitmap.Height));
        // The title sits centred above the plot: dark antialiased glyph pixels there, not only background.
        var ink = Count(bitmap, c => c.Red < 120 && c.Green < 120 && c.Blue < 120, new SKRectI(200, 0, 440, 30));
        Assert.True(ink > 150, $"{ink} dark pixels in the title area");
        // A chart without a title leaves that strip blank, so the ink above is the title's.
        using var untitled = Decode(new LineFigure { Series = Sweep().Series, YRange = (0, 1) }.ToPng());
        Assert.True(Count(untitled, c => c.Red < 120, new SKRectI(200, 0, 440, 12)) < ink / 4);
    }

    [Fact]
    public void The_svg_is_xml_with_the_labels_and_legend_as_text()
    {
        var text = Sweep().ToSvg();
        Assert.Equal(text, Sweep().ToSvg()); // the same chart, the same SVG text (clip-path ids included)
        var svg = XDocument.Parse(text);
        Assert.Equal(Svg + "svg", svg.Root!.Name);
        var ids = svg.Descendants().Select(e => e.Attribute("id")?.Value).OfType<string>().ToList();
        Assert.NotEmpty(ids);
        Assert.DoesNotContain(ids, id => XDocument.Parse(new RocFigure().ToSvg()).Descendants().Any(e => e.Attribute("id")?.Value == id));
        var texts = svg.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("p (fraction of pixels removed)", texts);
        Assert.Contains("d1/d2 < 1/3", texts);
        Assert.Contains("held-out baseline", texts);
    }

    [Fact]
    public void Several_seeds_draw_a_band_or_error_bars_in_the_series_colour_and_one_seed_draws_neither()
    {
        // The band is the first colour (#1f77b4) at 18% over white.
        (int, int, int) band = ((int)(255 - 0.18 * (255 - 0x1f)), (int)(255 - 0.18 * (255 - 0x77)), (int)(255 - 0.18 * (255 - 0xb4)));
        using var withBand = Decode(Sweep().ToPng());
        using var plain = Decode(Sweep(withSd: false).ToPng());
        using var withBars = Decode(Sweep(SpreadStyle.ErrorBars).ToPng());
        var banded = Count(withBand, c => Near(c, band, 4));
        Assert.True(banded > 500, $"{banded} band pixels");
        Assert.True(Count(plain, c => Near(c, band, 4)) < banded / 20);
        Assert.True(Count(withBars, c => Near(c, band, 4)) < banded / 20);
        Assert.NotEqual(Sweep(withSd: false).ToPng(), Sweep(SpreadStyle.ErrorBars).ToPng());
    }

    [Fact]
    public void A_confidence_interval_is_drawn_from_its_own_bounds_and_the_axis_reaches_them()
    {
        LineFigure Chart(double? lo, double? hi) => new()
        {
            YScale = AxisScale.Linear,
            Series = [new LineSeries("AUC", [new LinePoint(1, 0.5, Lo: lo, Hi: hi), new LinePoint(2, 0.6, Lo: lo, Hi: hi)], SpreadStyle.ErrorBars)],
        };
        List<string> Labels(LineFigure chart) => XDocument.Parse(chart.ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("4", Labels(Chart(0.25, 4)));
        Assert.DoesNotContain("4", Labels(Chart(null, null)));
        Assert.NotEqual(Chart(null, null).ToPng(), Chart(0.25, 4).ToPng());
    }

    [Fact]
    public void Values_spanning_decades_get_a_log_axis_with_decade_labels_and_fractions_stay_linear()
    {
        var decades = new LineFigure { Series = [new LineSeries("KID", [(1, 0.2), (2, 0.02), (3, 0.002)])] };
        var labels = XDocument.Parse(decades.ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("0.01", labels);
        Assert.Contains("0.1", labels);
        Assert.DoesNotContain("0", labels); // no zero on a log axis
        var linear = new LineFigure { Series = [new LineSeries("KID", [(1, 0.2), (2, 0.02), (3, 0.002)])], YScale = AxisScale.Linear };
        Assert.Contains("0", Texts(linear));
        // Fractions with a zero stay linear under Auto.
        Assert.Contains("0", Texts(new LineFigure { Series = [new LineSeries("memorized", [(1, 0.0), (2, 0.5)])] }));
    }

    [Fact]
    public void Histogram_overlay_normalises_each_series_and_lists_its_thresholds()
    {
        var chart = new HistogramFigure
        {
            Lo = 0, Hi = 1, Series = [new("a", [1, 2, 1]), new("b", [10, 20, 10])],
            References = [new ReferenceLine(0.5, "d1 = 0.5", Vertical: true)],
        };
        var fractions = chart.Fractions();
        Assert.Equal(fractions[0], fractions[1]);
        Assert.Equal([0.25, 0.5, 0.25], fractions[0]);
        var texts = XDocument.Parse(chart.ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("d1 = 0.5", texts);
        Assert.Throws<ArgumentException>(() => new HistogramFigure { Lo = 0, Hi = 1, Series = [new("a", [1, 2]), new("b", [1])] }.ToPng());
    }

    [Fact]
    public void A_trade_off_scatter_writes_each_point_label_and_draws_error_bars_on_both_axes()
    {
        ScatterFigure Chart(double? sd) => new()
        {
            Title = "quality against memorization",
            XLabel = "memorized fraction",
            YLabel = "FD",
            Series = [new ScatterSeries("ambient", [new(0.02, 61.8, "p=0.8", sd, sd), new(0.10, 48.0, "p=0.4", sd, sd)], Connect: true)],
        };
        var texts = XDocument.Parse(Chart(0.01).ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("p=0.8", texts);
        Assert.Contains("p=0.4", texts);
        Assert.Contains("ambient", texts);
        Assert.NotEqual(Chart(null).ToPng(), Chart(0.01).ToPng());
    }

    [Fact]
    public void A_roc_chart_shows_each_curve_with_its_area_and_the_chance_line()
    {
        var perfect = new RocCurve("perfect", [(0, 1)]);
        var chance = new RocCurve("guess", [(0.25, 0.25), (0.5, 0.5), (0.75, 0.75)]);
        Assert.Equal(1.0, perfect.Auc(), 12);
        Assert.Equal(0.5, chance.Auc(), 12);
        Assert.Equal(0.75, new RocCurve("half", [(0, 0.5)]).Auc(), 12);
        var texts = XDocument.Parse(new RocFigure { Title = "membership", Curves = [perfect, chance] }.ToSvg()).Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("perfect (AUC 1.000)", texts);
        Assert.Contains("guess (AUC 0.500)", texts);
        Assert.Contains("chance", texts);
        Assert.Equal(new RocFigure { Curves = [perfect] }.ToPng(), new RocFigure { Curves = [perfect] }.ToPng());
    }

    [Fact]
    public void Write_puts_a_png_and_an_svg_side_by_side()
    {
        using var dir = new TempDir();
        Sweep().Write(dir.Path, "summary");
        Assert.Equal(Sweep().ToPng(), File.ReadAllBytes(dir.File("summary.png")));
        Assert.StartsWith("<svg", File.ReadAllText(dir.File("summary.svg")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_figure_described_in_json_draws_the_same_bytes_as_the_figure_built_in_code()
    {
        using var dir = new TempDir();
        var path = dir.File("kid.json");
        File.WriteAllText(path, """
            {"kind": "line", "title": "kid vs generation", "x_label": "generation", "y_label": "KID",
             "references": [{"value": 0.01, "label": "floor"}],
             "series": [{"name": "fresh", "points": [[1, 0.2, 0.02], [2, 0.02], [3, 0.002, 0.001]]}]}
            """);
        var built = new LineFigure
        {
            Title = "kid vs generation", XLabel = "generation", YLabel = "KID", References = [new ReferenceLine(0.01, "floor")],
            Series = [new LineSeries("fresh", [new LinePoint(1, 0.2, 0.02), new LinePoint(2, 0.02), new LinePoint(3, 0.002, 0.001)])],
        };
        Assert.Equal(built.ToPng(), FigureSpec.Load(path).ToFigure().ToPng());
    }

    [Theory]
    [InlineData("""{"kind": "pie", "series": []}""", "kind = pie")]
    [InlineData("""{"kind": "line", "colour": "red"}""", "colour")]
    [InlineData("""{"kind": "line", "series": [{"name": "a", "points": [[1]]}]}""", "series[0].points")]
    [InlineData("""{"kind": "histogram", "lo": 0, "hi": 1, "series": [{"name": "a", "counts": [1, -2]}]}""", "series[0].counts")]
    [InlineData("""{"kind": "roc", "series": [{"name": "a", "points": [[0.5, 1.5]]}]}""", "rate pair")]
    [InlineData("""{"kind": "line", "y_scale": "cubic"}""", "y_scale = cubic")]
    public void A_bad_figure_description_is_refused_naming_the_file_and_the_key(string json, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.json");
        File.WriteAllText(path, json);
        var error = Assert.Throws<InvalidDataException>(() => FigureSpec.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Many_legend_entries_stand_beside_the_plot_which_keeps_its_width()
    {
        var many = new LineFigure { Series = Enumerable.Range(0, 6).Select(i => new LineSeries($"arm {i}", [(0, i), (1, i + 1.0)])).ToList() };
        using var bitmap = Decode(many.ToPng());
        Assert.Equal(400, bitmap.Height);
        Assert.True(bitmap.Width > 640, $"width {bitmap.Width}");
        Assert.Contains("arm 5", Texts(many));
    }

    [Fact]
    public void Statistics_interpolate_quantiles_and_bin_values()
    {
        Assert.Equal(2.5, MemorizationStatistics.Quantile([1, 2, 3, 4], 0.5));
        Assert.Equal(0.25, MemorizationStatistics.NiceCeiling(0.21));
        var histogram = MemorizationStatistics.Bin([0, 0.1, 0.5, 1, 2], 0, 1, 2);
        Assert.Equal([2L, 3L], histogram.Counts);
    }
}
