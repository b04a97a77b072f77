using ScottPlot;
using SkiaSharp;

namespace AmbientDiffusion.Reporting;

/// <summary>
/// The one typeface of every chart and picture: DejaVu Sans, embedded in this assembly (license beside it in
/// Reporting/Fonts). Skia's Linux build without dependencies has no fontconfig, so a system font would differ (or be
/// missing) from machine to machine; with the font inside the product, a chart's PNG is the same bytes everywhere.
/// </summary>
public static class ReportFont
{
    /// <summary>The family name charts ask ScottPlot for; the resolver below answers it with the embedded face.</summary>
    public const string Name = "DejaVu Sans";

    private static readonly Lazy<SKTypeface> Face = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<bool> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The embedded typeface (loaded once, shared, never disposed).</summary>
    public static SKTypeface Typeface => Face.Value;

    /// <summary>A font of the embedded face at <paramref name="size"/> pixels, antialiased, with whole-pixel metrics kept
    /// off so glyph placement does not depend on the machine's hinting defaults.</summary>
    public static SKFont Create(float size) => new(Typeface, size) { Edging = SKFontEdging.Antialias, Hinting = SKFontHinting.None, Subpixel = true };

    /// <summary>Makes ScottPlot resolve <see cref="Name"/> (and its default font) to the embedded face; idempotent.</summary>
    public static void UseInScottPlot() => _ = Registered.Value;

    private static SKTypeface Load()
    {
        using var stream = typeof(ReportFont).Assembly.GetManifestResourceStream("AmbientDiffusion.Reporting.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("the embedded font AmbientDiffusion.Reporting.DejaVuSans.ttf is missing from the assembly");
        using var data = SKData.Create(stream);
        return SKTypeface.FromData(data) ?? throw new InvalidOperationException("the embedded DejaVu Sans could not be read by Skia");
    }

    private static bool Register()
    {
        Fonts.FontResolvers.Insert(0, new EmbeddedResolver());
        Fonts.Default = Name;
        Fonts.Sans = Name;
        return true;
    }

    /// <summary>Every family, weight and slant resolves to the one embedded face: charts never fall back to a system font.</summary>
    private sealed class EmbeddedResolver : IFontResolver
    {
        public SKTypeface CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) => Typeface;

        public SKTypeface CreateTypeface(string fontName, bool bold, bool italic) => Typeface;
    }
}
