using System.Xml.Linq;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Tests;

public class MemorizationChartTests
{
    private static LineChart Sweep() => new()
    {
        Title = "Memorization vs corruption",
        XLabel = "p (fraction of pixels removed)",
        YLabel = "fraction of samples",
        YRange = (0, 1),
        Series =
        [
            new LineSeries("d1/d2 < 1/3", [(0, 0.62), (0.4, 0.31), (0.6, 0.12), (0.8, 0.02), (0.9, 0.0)]),
            new LineSeries("cosine > 0.95", [(0, 0.8), (0.4, 0.5), (0.6, double.NaN), (0.8, 0.05), (0.9, 0.01)]),
        ],
    };

    [Fact]
    public void Line_chart_svg_is_xml_with_one_polyline_per_unbroken_run()
    {
        var svg = XDocument.Parse(Sweep().ToSvg());
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        Assert.Equal(3, svg.Descendants(ns + "polyline").Count()); // the NaN splits the second series
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "p (fraction of pixels removed)");
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "d1/d2 &lt; 1/3" || t.Value == "d1/d2 < 1/3");
    }

    [Fact]
    public void Line_chart_png_decodes_and_is_deterministic()
    {
        var png = Sweep().ToPng();
        Assert.Equal(png, Sweep().ToPng());
        using var scope = torch.NewDisposeScope();
        var image = ImageCodec.Decode(png, "chart");
        Assert.Equal([400L, 640L, 3L], image.shape);
        var canvas = Sweep().Render();
        var colored = 0;
        for (var i = 0; i < canvas.Pixels.Length; i += 3)
            if (canvas.Pixels[i] == 0x1f && canvas.Pixels[i + 1] == 0x77 && canvas.Pixels[i + 2] == 0xb4) colored++;
        Assert.True(colored > 200, $"{colored} pixels of the first series' colour");
    }

    [Fact]
    public void Histogram_overlay_normalises_each_series()
    {
        var chart = new HistogramChart { Lo = 0, Hi = 1, Series = [new("a", [1, 2, 1]), new("b", [10, 20, 10])], Markers = [(0.5, "0.5")] };
        var svg = XDocument.Parse(chart.ToSvg());
        XNamespace ns = "http://www.w3.org/2000/svg";
        var outlines = svg.Descendants(ns + "polyline").Select(p => p.Attribute("points")!.Value).ToArray();
        Assert.Equal(2, outlines.Length);
        Assert.Equal(outlines[0], outlines[1]); // same fractions, same outline
    }

    [Fact]
    public void Axes_have_nice_ticks_and_statistics_interpolate()
    {
        var axis = ChartAxis.Create(0.03, 0.87);
        Assert.Equal(0, axis.Min);
        Assert.Equal(1, axis.Max, 10);
        Assert.Equal(["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], axis.Labels);
        Assert.Equal(2.5, MemorizationStatistics.Quantile([1, 2, 3, 4], 0.5));
        Assert.Equal(0.25, MemorizationStatistics.NiceCeiling(0.21));
        var histogram = MemorizationStatistics.Bin([0, 0.1, 0.5, 1, 2], 0, 1, 2);
        Assert.Equal([2L, 3L], histogram.Counts);
    }
}
