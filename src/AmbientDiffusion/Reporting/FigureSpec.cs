using System.Text.Json;
using System.Text.Json.Serialization;

namespace AmbientDiffusion.Reporting;

/// <summary>
/// A figure described as data (JSON, snake_case keys): its kind, labels, axes and values. <c>ambient figure</c>
/// renders one to PNG and SVG, so that figures of committed tables (docs/tools) are drawn by the same chart code as the
/// product's own. Unknown keys are errors; every value is checked before anything is drawn.
/// </summary>
public sealed record FigureSpec
{
    /// <summary>line, histogram, scatter or roc.</summary>
    public required string Kind { get; init; }

    /// <summary>Title above the plot.</summary>
    public string Title { get; init; } = "";

    /// <summary>Label of the x axis.</summary>
    public string? XLabel { get; init; }

    /// <summary>Label of the y axis.</summary>
    public string? YLabel { get; init; }

    /// <summary>linear, log or auto (the kind's default when absent).</summary>
    public string? XScale { get; init; }

    /// <summary>linear, log or auto (the kind's default when absent).</summary>
    public string? YScale { get; init; }

    /// <summary>Fixed x range [min, max].</summary>
    public double[]? XRange { get; init; }

    /// <summary>Fixed y range [min, max].</summary>
    public double[]? YRange { get; init; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; } = 640;

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; } = 400;

    /// <summary>Reference lines.</summary>
    public List<ReferenceSpec> References { get; init; } = [];

    /// <summary>line: the series; scatter: the groups of labelled points; roc: the curves.</summary>
    public List<SeriesSpec> Series { get; init; } = [];

    /// <summary>histogram: lower end of the first bin.</summary>
    public double? Lo { get; init; }

    /// <summary>histogram: upper end of the last bin.</summary>
    public double? Hi { get; init; }

    /// <summary>A reference line.</summary>
    public sealed record ReferenceSpec(double Value, string Label = "", bool Vertical = false);

    /// <summary>A series: points as [x, y] or [x, y, sd] (line), objects (scatter), [fpr, tpr] (roc), or bin counts (histogram).</summary>
    public sealed record SeriesSpec
    {
        /// <summary>Legend entry.</summary>
        public required string Name { get; init; }

        /// <summary>line and roc points.</summary>
        public List<double[]>? Points { get; init; }

        /// <summary>line: band or error_bars.</summary>
        public string Spread { get; init; } = "band";

        /// <summary>scatter points.</summary>
        public List<LabelledPoint>? Labelled { get; init; }

        /// <summary>scatter: join the points with a line.</summary>
        public bool Connect { get; init; }

        /// <summary>histogram counts per bin.</summary>
        public List<long>? Counts { get; init; }
    }

    // The product's one number policy: NaN and infinities (an sd that does not exist) read as the strings it writes.
    private static readonly JsonSerializerOptions Json = new(AmbientDiffusion.Common.FiniteJson.Options)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads and checks the spec in <paramref name="path"/>.</summary>
    public static FigureSpec Load(string path)
    {
        FigureSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<FigureSpec>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        if (spec is null) throw new InvalidDataException($"{path}: expected a JSON object describing a figure");
        try
        {
            spec.ToFigure();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return spec;
    }

    /// <summary>The figure this spec describes; an <see cref="ArgumentException"/> names the first bad key.</summary>
    public Figure ToFigure()
    {
        if (Width is < 64 or > 8192 || Height is < 64 or > 8192) throw new ArgumentException($"width {Width}, height {Height}: expected 64 to 8192 pixels each");
        var references = References.Select(r => new ReferenceLine(Finite(r.Value, "references.value"), r.Label, r.Vertical)).ToList();
        var (xRange, yRange) = (Range(XRange, "x_range"), Range(YRange, "y_range"));
        Figure figure = Kind switch
        {
            "line" => new LineFigure
            {
                Series = Series.Select((s, i) => new LineSeries(s.Name, Points(s, i, 2, 3).Select(p => new LinePoint(p[0], p[1], p.Length > 2 ? p[2] : null)).ToList(),
                    s.Spread switch { "band" => SpreadStyle.Band, "error_bars" => SpreadStyle.ErrorBars, _ => throw new ArgumentException($"series[{i}].spread = {s.Spread}: expected band or error_bars") })).ToList(),
            },
            "scatter" => new ScatterFigure
            {
                Series = Series.Select((s, i) => new ScatterSeries(s.Name, s.Labelled ?? throw new ArgumentException($"series[{i}].labelled: expected the points of a scatter"), s.Connect)).ToList(),
            },
            "roc" => new RocFigure
            {
                Curves = Series.Select((s, i) => new RocCurve(s.Name, Points(s, i, 2, 2).Select(p => p[0] is >= 0 and <= 1 && p[1] is >= 0 and <= 1 ? (p[0], p[1])
                    : throw new ArgumentException($"series[{i}].points: ({p[0]}, {p[1]}) is not a rate pair in [0, 1]")).ToList())).ToList(),
            },
            "histogram" => new HistogramFigure
            {
                Lo = Lo ?? throw new ArgumentException("lo: expected the lower end of the first bin"),
                Hi = Hi is { } hi && hi > Lo ? hi : throw new ArgumentException($"hi = {Hi}: expected the upper end of the last bin, above lo"),
                Series = Series.Select((s, i) => new HistogramSeries(s.Name, s.Counts is { Count: > 0 } c && c.All(n => n >= 0) ? c
                    : throw new ArgumentException($"series[{i}].counts: expected non-negative counts per bin"))).ToList(),
            },
            _ => throw new ArgumentException($"kind = {Kind}: expected line, histogram, scatter or roc"),
        };
        // The common settings go on after the kind's own defaults (a ROC's unit ranges, a histogram's "fraction").
        figure.Title = Title;
        figure.XLabel = XLabel ?? figure.XLabel;
        figure.YLabel = YLabel ?? figure.YLabel;
        figure.XScale = Scale(XScale, "x_scale") ?? figure.XScale;
        figure.YScale = Scale(YScale, "y_scale") ?? figure.YScale;
        figure.XRange = xRange ?? figure.XRange;
        figure.YRange = yRange ?? figure.YRange;
        figure.References = references;
        (figure.Width, figure.Height) = (Width, Height);
        if (figure is HistogramFigure histogram) histogram.Fractions();
        return figure;
    }

    private static IEnumerable<double[]> Points(SeriesSpec series, int index, int min, int max)
    {
        foreach (var p in series.Points ?? throw new ArgumentException($"series[{index}].points: expected a list of points"))
        {
            if (p.Length < min || p.Length > max) throw new ArgumentException($"series[{index}].points: [{string.Join(", ", p)}] has {p.Length} values, expected {min} to {max}");
            yield return p;
        }
    }

    private static AxisScale? Scale(string? text, string key) => text switch
    {
        null => null,
        "linear" => AxisScale.Linear,
        "log" => AxisScale.Log,
        "auto" => AxisScale.Auto,
        _ => throw new ArgumentException($"{key} = {text}: expected linear, log or auto"),
    };

    private static (double, double)? Range(double[]? range, string key) => range switch
    {
        null => null,
        [var lo, var hi] when double.IsFinite(lo) && double.IsFinite(hi) && hi > lo => (lo, hi),
        _ => throw new ArgumentException($"{key}: expected [min, max] with min < max"),
    };

    private static double Finite(double value, string key) => double.IsFinite(value) ? value : throw new ArgumentException($"{key} = {value}: expected a finite number");
}
