using System.Globalization;
using AmbientDiffusion.Reporting;

namespace AmbientDiffusion.Classification;

/// <summary>
/// A confusion matrix as a PNG: one cell per (true class row, predicted class column), shaded from white to blue by the
/// fraction of the true class's test images it holds, with the count written in it; classes are numbered by id
/// (the report's table names them).
/// </summary>
public static class CasConfusionPicture
{
    private const int Cell = 34, Margin = 28, Title = 16;
    private static readonly (byte, byte, byte) Background = (255, 255, 255), Ink = (34, 34, 34), Grid = (204, 204, 204);

    /// <summary>The PNG bytes of <paramref name="confusion"/> ([true][predicted] counts), titled <paramref name="title"/>.</summary>
    public static byte[] Render(long[][] confusion, string title)
    {
        var k = confusion.Length;
        if (k == 0 || confusion.Any(row => row.Length != k)) throw new ArgumentException("confusion matrix: expected a non-empty square matrix");
        var size = Margin + k * Cell + 1;
        var canvas = new RasterCanvas(Math.Max(size + 8, BitmapFont.MeasureWidth(title) + 16), size + Title + 8, Background);
        canvas.Text(4, 4, title, Ink);
        var top = Title + Margin;
        canvas.Text(Margin, Title + 2, "predicted", Ink);
        canvas.Text(2, top + k * Cell, "true", Ink, vertical: true);
        for (var t = 0; t < k; t++)
        {
            var rowTotal = confusion[t].Sum();
            var label = t.ToString(CultureInfo.InvariantCulture);
            canvas.Text(Margin - 4 - BitmapFont.MeasureWidth(label), top + t * Cell + (Cell - BitmapFont.GlyphHeight) / 2, label, Ink);
            canvas.Text(Margin + t * Cell + (Cell - BitmapFont.MeasureWidth(label)) / 2, top - BitmapFont.GlyphHeight - 3, label, Ink);
            for (var p = 0; p < k; p++)
            {
                var fraction = rowTotal == 0 ? 0 : (double)confusion[t][p] / rowTotal;
                var shade = ((byte)(255 - 200 * fraction), (byte)(255 - 150 * fraction), (byte)255);
                var (x0, y0) = (Margin + p * Cell, top + t * Cell);
                canvas.FillRect(x0, y0, x0 + Cell, y0 + Cell, shade);
                canvas.Line(x0, y0, x0 + Cell, y0, Grid);
                canvas.Line(x0, y0, x0, y0 + Cell, Grid);
                var count = confusion[t][p].ToString(CultureInfo.InvariantCulture);
                var colour = fraction > 0.6 ? Background : Ink;
                canvas.Text(x0 + (Cell - BitmapFont.MeasureWidth(count)) / 2, y0 + (Cell - BitmapFont.GlyphHeight) / 2, count, colour);
            }
        }
        var end = Margin + k * Cell;
        canvas.Line(Margin, top + k * Cell, end, top + k * Cell, Grid);
        canvas.Line(end, top, end, top + k * Cell, Grid);
        return canvas.ToPng();
    }
}
