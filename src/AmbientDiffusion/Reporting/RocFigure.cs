using System.Globalization;
using SP = ScottPlot;

namespace AmbientDiffusion.Reporting;

/// <summary>One ROC curve: a name and its (false positive rate, true positive rate) points from threshold sweep,
/// ascending; the legend shows the area under it.</summary>
/// <param name="Name">Legend entry (the AUC is appended).</param>
/// <param name="Points">(FPR, TPR) pairs in [0, 1], in order of increasing FPR.</param>
public sealed record RocCurve(string Name, IReadOnlyList<(double Fpr, double Tpr)> Points)
{
    /// <summary>Area under the curve by the trapezoid rule, the curve closed at (0, 0) and (1, 1).</summary>
    public double Auc()
    {
        var points = new List<(double Fpr, double Tpr)> { (0, 0) };
        points.AddRange(Points);
        points.Add((1, 1));
        var area = 0.0;
        for (var i = 1; i < points.Count; i++) area += (points[i].Fpr - points[i - 1].Fpr) * (points[i].Tpr + points[i - 1].Tpr) / 2;
        return area;
    }
}

/// <summary>ROC curves (e.g. membership inference: true against false positive rate) on the unit square, with the
/// chance diagonal; linear axes by default, or log FPR to show the low-false-positive end.</summary>
public sealed class RocFigure : Figure
{
    /// <summary>A ROC figure with the usual axis labels and ranges.</summary>
    public RocFigure()
    {
        XLabel = "false positive rate";
        YLabel = "true positive rate";
        XRange = (0, 1);
        YRange = (0, 1);
        YScale = AxisScale.Linear;
    }

    /// <summary>The curves.</summary>
    public List<RocCurve> Curves { get; init; } = [];

    /// <inheritdoc />
    protected override (IEnumerable<double> Xs, IEnumerable<double> Ys) Extent() =>
        (Curves.SelectMany(c => c.Points.Select(p => p.Fpr)), Curves.SelectMany(c => c.Points.Select(p => p.Tpr)));

    /// <inheritdoc />
    protected override void Draw(SP.Plot plot, Transform transform)
    {
        // Chance: TPR = FPR, drawn densely so that it stays straight or curves correctly on a log axis.
        var grid = Enumerable.Range(0, 201).Select(i => i / 200.0).Where(v => double.IsFinite(transform.X(v))).ToArray();
        var chance = plot.Add.Scatter(grid.Select(transform.X).ToArray(), grid.Select(transform.Y).ToArray(), SP.Color.FromHex("#999999"));
        chance.MarkerSize = 0;
        chance.LineWidth = 1;
        chance.LinePattern = SP.LinePattern.Dashed;
        chance.LegendText = "chance";
        for (var c = 0; c < Curves.Count; c++)
        {
            var points = Curves[c].Points.Where(p => double.IsFinite(transform.X(p.Fpr)) && double.IsFinite(transform.Y(p.Tpr))).ToList();
            if (points.Count == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => transform.X(p.Fpr)).ToArray(), points.Select(p => transform.Y(p.Tpr)).ToArray(), Color(c));
            line.LineWidth = 2;
            line.MarkerSize = 0;
            line.LegendText = $"{Curves[c].Name} (AUC {Curves[c].Auc().ToString("0.000", CultureInfo.InvariantCulture)})";
        }
    }
}
