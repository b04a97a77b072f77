using System.Globalization;
using AmbientDiffusion.Reporting;
using SkiaSharp;

namespace AmbientDiffusion.Classification;

/// <summary>
/// A confusion matrix as a PNG: one cell per (true class row, predicted class column), shaded from white to blue by the
/// fraction of the true class's test images it holds, with the count written in it; classes are numbered by id
/// (the report's table names them).
/// </summary>
public static class CasConfusionPicture
{
    private const int Cell = 40, Margin = 34, TitleHeight = 24;
    private const float TextSize = 12, TitleSize = 14;
    private static readonly (byte, byte, byte) Background = (255, 255, 255), Ink = (34, 34, 34), Grid = (204, 204, 204);

    /// <summary>The PNG bytes of <paramref name="confusion"/> ([true][predicted] counts), titled <paramref name="title"/>.</summary>
    public static byte[] Render(long[][] confusion, string title)
    {
        var k = confusion.Length;
        if (k == 0 || confusion.Any(row => row.Length != k)) throw new ArgumentException("confusion matrix: expected a non-empty square matrix");
        var size = Margin + k * Cell + 1;
        var width = Math.Max(size + 8, (int)Math.Ceiling(Picture.TextWidth(title, TitleSize)) + 16);
        using var picture = new Picture(width, size + TitleHeight + 8, Background);
        picture.Text(title, 4, 4, TitleSize, Ink);
        var top = TitleHeight + Margin;
        var line = Picture.TextHeight(TextSize);
        picture.Text("predicted", Margin, TitleHeight + 2, TextSize, Ink);
        picture.Text("true", 2, top + (k * Cell + Picture.TextWidth("true", TextSize)) / 2, TextSize, Ink, vertical: true);
        for (var t = 0; t < k; t++)
        {
            var rowTotal = confusion[t].Sum();
            var label = t.ToString(CultureInfo.InvariantCulture);
            picture.Text(label, Margin - 4, top + t * Cell + (Cell - line) / 2, TextSize, Ink, SKTextAlign.Right);
            picture.Text(label, Margin + t * Cell + Cell / 2f, top - line - 2, TextSize, Ink, SKTextAlign.Center);
            for (var p = 0; p < k; p++)
            {
                var fraction = rowTotal == 0 ? 0 : (double)confusion[t][p] / rowTotal;
                var shade = ((byte)(255 - 200 * fraction), (byte)(255 - 150 * fraction), (byte)255);
                var (x0, y0) = (Margin + p * Cell, top + t * Cell);
                picture.Fill(x0, y0, x0 + Cell, y0 + Cell, shade);
                picture.Line(x0 + 0.5f, y0 + 0.5f, x0 + Cell + 0.5f, y0 + 0.5f, Grid);
                picture.Line(x0 + 0.5f, y0 + 0.5f, x0 + 0.5f, y0 + Cell + 0.5f, Grid);
                var count = confusion[t][p].ToString(CultureInfo.InvariantCulture);
                var colour = fraction > 0.6 ? Background : Ink;
                // Counts in the thousands shrink to fit their cell.
                var fit = Math.Min(TextSize, TextSize * (Cell - 4) / Math.Max(1, Picture.TextWidth(count, TextSize)));
                picture.Text(count, x0 + Cell / 2f, y0 + (Cell - Picture.TextHeight(fit)) / 2, fit, colour, SKTextAlign.Center);
            }
        }
        var end = Margin + k * Cell + 0.5f;
        picture.Line(Margin, top + k * Cell + 0.5f, end, top + k * Cell + 0.5f, Grid);
        picture.Line(end, top, end, top + k * Cell, Grid);
        return picture.ToPng();
    }
}
