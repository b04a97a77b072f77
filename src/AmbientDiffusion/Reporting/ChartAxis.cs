using System.Globalization;

namespace AmbientDiffusion.Reporting;

/// <summary>A linear axis: a data range, "nice" tick positions and the labels to print at them.</summary>
public sealed class ChartAxis
{
    private ChartAxis(double min, double max, IReadOnlyList<double> ticks, int decimals)
    {
        (Min, Max, Ticks) = (min, max, ticks);
        Labels = ticks.Select(t => Format(t, decimals)).ToArray();
    }

    /// <summary>Lower end of the axis.</summary>
    public double Min { get; }

    /// <summary>Upper end of the axis.</summary>
    public double Max { get; }

    /// <summary>Tick positions, ascending, within [Min, Max].</summary>
    public IReadOnlyList<double> Ticks { get; }

    /// <summary>Tick labels (invariant culture).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>
    /// An axis covering [lo, hi] with about <paramref name="targetTicks"/> ticks at multiples of 1, 2 or 5 times a power
    /// of ten; the range is widened to whole ticks unless <paramref name="exact"/>. A degenerate range is padded.
    /// </summary>
    public static ChartAxis Create(double lo, double hi, int targetTicks = 5, bool exact = false)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) (lo, hi) = (0, 1);
        if (hi < lo) (lo, hi) = (hi, lo);
        if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(hi)))
        {
            var pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
            (lo, hi) = (lo - pad, hi + pad);
            exact = false;
        }
        var step = NiceStep((hi - lo) / Math.Max(1, targetTicks));
        var first = Math.Ceiling(lo / step - 1e-9);
        var last = Math.Floor(hi / step + 1e-9);
        if (!exact)
        {
            first = Math.Floor(lo / step + 1e-9);
            last = Math.Ceiling(hi / step - 1e-9);
            (lo, hi) = (first * step, last * step);
        }
        var ticks = new List<double>();
        for (var t = first; t <= last + 1e-9; t++) ticks.Add(Clean(t * step));
        var decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
        if (step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9)) is > 2.4 and < 2.6) decimals++;
        return new ChartAxis(lo, hi, ticks, decimals);
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at least <paramref name="raw"/>.</summary>
    public static double NiceStep(double raw)
    {
        if (!(raw > 0)) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (var m in new[] { 1, 2, 2.5, 5 })
            if (m * power >= raw * (1 - 1e-9)) return m * power;
        return 10 * power;
    }

    /// <summary>Position of <paramref name="value"/> between <paramref name="from"/> (at Min) and <paramref name="to"/> (at Max).</summary>
    public double Map(double value, double from, double to) => from + (value - Min) / (Max - Min) * (to - from);

    private static double Clean(double v) => Math.Abs(v) < 1e-12 ? 0 : Math.Round(v, 10);

    private static string Format(double v, int decimals) => v.ToString("F" + Math.Min(decimals, 10), CultureInfo.InvariantCulture);
}

/// <summary>Formatting shared by the chart writers: invariant culture, stable, short.</summary>
internal static class ChartText
{
    /// <summary>A coordinate with at most two decimals.</summary>
    public static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Text escaped for XML content and attributes.</summary>
    public static string Escape(string text) => Xml.Escape(text);

    /// <summary>Series colours (colour-blind friendly), cycled.</summary>
    public static readonly (byte R, byte G, byte B)[] Palette =
    [
        (0x1f, 0x77, 0xb4), (0xd6, 0x27, 0x28), (0x2c, 0xa0, 0x2c), (0xff, 0x7f, 0x0e),
        (0x94, 0x67, 0xbd), (0x8c, 0x56, 0x4b), (0xe3, 0x77, 0xc2), (0x7f, 0x7f, 0x7f),
    ];

    /// <summary>Colour <paramref name="i"/> of the palette as #rrggbb.</summary>
    public static string Color(int i)
    {
        var (r, g, b) = Palette[i % Palette.Length];
        return $"#{r:x2}{g:x2}{b:x2}";
    }
}
