namespace AmbientDiffusion.Reporting;

/// <summary>The stylesheet every HTML report shares (memorization, evaluation), so their tables look alike.</summary>
public static class ReportStyle
{
    /// <summary>Body, tables and code.</summary>
    public const string Base = """
        body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
        table{border-collapse:collapse;margin:8px 0 16px}
        th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
        th{background:#f3f3f3}
        td.l,th.l{text-align:left}
        code{font-size:12px}

        """;
}
