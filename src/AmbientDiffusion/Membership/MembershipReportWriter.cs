using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Reporting;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Membership;

/// <summary>
/// Writes a membership analysis: <c>membership.json</c> (the report), <c>membership.csv</c> (one line per image: set,
/// index in its file, label, then each attack's score, higher meaning "member"; the loss attacks' score at each σ
/// after) and the ROC curves of every attack as <c>membership.png</c>/<c>.svg</c> (linear axes) and
/// <c>membership-log.png</c>/<c>.svg</c> (log FPR, where the low-FPR end the field reports shows). Each file atomically;
/// membership.json last, so its presence marks a finished analysis.
/// </summary>
public static class MembershipReportWriter
{
    /// <summary>File name of the report.</summary>
    public const string JsonFile = "membership.json";

    /// <summary>File name of the per-image scores.</summary>
    public const string CsvFile = "membership.csv";

    /// <summary>Stem of the ROC chart (linear axes).</summary>
    public const string ChartStem = "membership";

    /// <summary>Stem of the ROC chart with a log FPR axis.</summary>
    public const string LogChartStem = "membership-log";

    /// <summary>Serializer of membership.json (snake_case, indented, nulls left out, the product's number policy).</summary>
    public static readonly JsonSerializerOptions JsonOptions = Common.FiniteJson.SnakeCase(indented: true, omitNulls: true);

    /// <summary>Writes the files into <paramref name="directory"/>.</summary>
    public static void Write(MembershipReport report, IReadOnlyList<AttackScores> scores, CandidateSet members, CandidateSet nonMembers, string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(Path.Combine(directory, CsvFile), Encoding.UTF8.GetBytes(Csv(scores, members, nonMembers)));
        var curves = scores.Select(s => new RocCurve(s.Name, RocAnalysis.Curve(s.Members, s.NonMembers))).ToList();
        var title = double.IsNaN(report.Kimg) ? "membership inference" : FormattableString.Invariant($"membership inference at {report.Kimg:0.###} kimg");
        new RocFigure { Title = title, Curves = curves }.Write(directory, ChartStem);
        var smallest = 1.0 / Math.Max(1, nonMembers.Count);
        new RocFigure { Title = title + " (log FPR)", Curves = curves, XScale = AxisScale.Log, XRange = (Math.Min(1e-3, smallest), 1), YScale = AxisScale.Log, YRange = (Math.Min(1e-3, 1.0 / Math.Max(1, members.Count)), 1) }
            .Write(directory, LogChartStem);
        AtomicFile.WriteAllBytes(Path.Combine(directory, JsonFile), Encoding.UTF8.GetBytes(JsonSerializer.Serialize(report, JsonOptions) + "\n"));
    }

    /// <summary>Reads membership.json from <paramref name="directory"/>, or null when there is none.</summary>
    public static MembershipReport? Read(string directory)
    {
        var path = Path.Combine(directory, JsonFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<MembershipReport>(File.ReadAllBytes(path), JsonOptions)
                ?? throw new InvalidDataException($"{path}: empty membership report");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a membership report this version reads ({e.Message}); run the attacks again with --overwrite", e);
        }
    }

    /// <summary>The CSV text ("\n" line ends, invariant numbers, G9).</summary>
    public static string Csv(IReadOnlyList<AttackScores> scores, CandidateSet members, CandidateSet nonMembers)
    {
        var csv = new StringBuilder("set,index,label");
        foreach (var s in scores) csv.Append(',').Append(s.Name);
        foreach (var s in scores)
            foreach (var level in s.PerSigma) csv.Append(',').Append(s.Name).Append("@sigma=").Append(level.Sigma.ToString("R", CultureInfo.InvariantCulture));
        csv.Append('\n');
        foreach (var set in new[] { members, nonMembers })
        {
            var member = set.Role == CandidateRole.Members;
            for (var i = 0; i < set.Count; i++)
            {
                csv.Append(set.Name).Append(',').Append(set.Indices[i].ToString(CultureInfo.InvariantCulture)).Append(',');
                if (set.Labels is { } labels) csv.Append(labels[i].ToString(CultureInfo.InvariantCulture));
                foreach (var s in scores) csv.Append(',').Append(Number((member ? s.Members : s.NonMembers)[i]));
                foreach (var s in scores)
                    foreach (var level in s.PerSigma) csv.Append(',').Append(Number((member ? level.Members : level.NonMembers)[i]));
                csv.Append('\n');
            }
        }
        return csv.ToString();
    }

    private static string Number(double value) => value.ToString("G9", CultureInfo.InvariantCulture);
}
