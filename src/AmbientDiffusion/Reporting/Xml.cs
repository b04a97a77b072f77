namespace AmbientDiffusion.Reporting;

/// <summary>Text in XML and XHTML (the SVG charts and the HTML reports).</summary>
public static class Xml
{
    /// <summary><paramref name="text"/> with &amp;, &lt;, &gt;, quotes and apostrophes escaped.</summary>
    public static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? "";
}
