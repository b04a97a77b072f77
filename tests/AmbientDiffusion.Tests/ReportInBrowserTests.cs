using System.Diagnostics;
using AmbientDiffusion.Memorization;

namespace AmbientDiffusion.Tests;

/// <summary>A fact that needs Debian's Chromium; skipped with the reason where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>The browser the tests drive.</summary>
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the browser is missing.</summary>
    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium)) Skip = $"{Chromium} is not installed (Debian package chromium; .ci/setup installs it)";
    }
}

/// <summary>
/// report.html as a person sees it: Debian's headless Chromium loads it inside a page that waits for it and records
/// what the browser saw (console errors, images decoded), then dumps that page's DOM for the test to read.
/// </summary>
public class ReportInBrowserTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Chromium = ChromiumFactAttribute.Chromium;

    [ChromiumFact]
    public void The_report_loads_in_a_real_browser_with_no_console_errors_and_every_image_rendered()
    {
        using var dir = new TempDir();
        var train = MemorizationFixtures.WriteTrain(dir, MemorizationFixtures.SmoothImages(30, seed: 3), MemorizationFixtures.SmoothImages(10, seed: 4));
        var samples = MemorizationFixtures.WriteSamples(dir, MemorizationFixtures.SmoothImages(12, seed: 5), "samples.safetensors");
        var report = dir.File("report");
        MemorizationAnalyzer.Run(MemorizationFixtures.Options(samples, train, report));
        var html = Path.Combine(report, MemorizationReportWriter.HtmlFile);

        // The probe page frames the report, hooks its console before any of its scripts run, and writes its findings.
        var probe = dir.File("probe.html");
        File.WriteAllText(probe, $$"""
            <!DOCTYPE html><html><body><pre id="result">pending</pre>
            <iframe id="frame" style="width:1200px;height:4000px"></iframe>
            <script>
            const frame = document.getElementById('frame');
            const errors = [];
            frame.addEventListener('load', () => {
              const doc = frame.contentDocument;
              const images = [...doc.images];
              const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).length;
              const verdict = doc.getElementById('verdict');
              document.getElementById('result').textContent = JSON.stringify({
                images: images.length, broken, errors, verdict: verdict ? verdict.textContent : null });
            });
            frame.addEventListener('DOMContentLoaded', () => {}, true);
            window.addEventListener('error', e => errors.push(String(e.message)), true);
            frame.src = {{System.Text.Json.JsonSerializer.Serialize(new Uri(html).AbsoluteUri)}};
            frame.contentWindow && frame.contentWindow.addEventListener('error', e => errors.push(String(e.message)));
            </script></body></html>
            """);
        var (dom, log) = RunChromium(probe, dir.Path);
        var start = dom.IndexOf("<pre id=\"result\">", StringComparison.Ordinal);
        Assert.True(start >= 0, "no result element in the dumped DOM:\n" + dom);
        var text = System.Net.WebUtility.HtmlDecode(dom[(start + "<pre id=\"result\">".Length)..dom.IndexOf("</pre>", start, StringComparison.Ordinal)]);
        output.WriteLine(text);
        Assert.NotEqual("pending", text);
        using var result = System.Text.Json.JsonDocument.Parse(text);
        var root = result.RootElement;
        Assert.True(root.GetProperty("images").GetInt32() > 0, "the report shows no images");
        Assert.Equal(0, root.GetProperty("broken").GetInt32());
        Assert.Equal(0, root.GetProperty("errors").GetArrayLength());
        Assert.Contains("samples within the copy threshold", root.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        // Chromium reports page console errors on stderr as "CONSOLE" lines with --enable-logging.
        Assert.DoesNotContain(log.Split('\n'), l => l.Contains("CONSOLE", StringComparison.Ordinal) && l.Contains("ERROR", StringComparison.OrdinalIgnoreCase));
    }

    private static (string Dom, string Log) RunChromium(string page, string profileRoot)
    {
        var info = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0",
                     $"--user-data-dir={Path.Combine(profileRoot, "chromium-profile")}", "--virtual-time-budget=5000", "--dump-dom", new Uri(page).AbsoluteUri,
                 })
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var dom = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish within 60 s");
        }
        return (dom, stderr.Result);
    }
}
