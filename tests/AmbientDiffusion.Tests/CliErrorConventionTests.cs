using System.CommandLine;
using System.Diagnostics;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Config;
using AmbientDiffusion.Data;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>
/// The error convention, seen from outside: the built CLI (ambient.dll next to the tests) runs as a child process
/// with its standard output and error redirected, as in a log or a script.
/// </summary>
public class CliErrorConventionTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "ambient.dll");

    /// <summary>What a finished `ambient` process left: its exit code, standard output and standard error.</summary>
    internal sealed record Outcome(int Code, string Out, string Error)
    {
        public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Runs `dotnet ambient.dll` with <paramref name="arguments"/>; TERM is a colour terminal's and NO_COLOR
    /// unset unless <paramref name="environment"/> says otherwise, so only the redirection can turn colour off.</summary>
    internal static Outcome Run(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string program = "dotnet")
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (program == "dotnet") start.ArgumentList.Add(Cli);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        start.Environment["TERM"] = "xterm-256color";
        start.Environment.Remove("NO_COLOR");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null) start.Environment.Remove(k);
            else start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"ambient {string.Join(' ', arguments)} did not exit within 2 minutes");
        }
        return new Outcome(process.ExitCode, output, error.Result);
    }

    private static void AssertNoEscapes(Outcome outcome) =>
        Assert.False(outcome.Out.Contains('\u001b', StringComparison.Ordinal) || outcome.Error.Contains('\u001b', StringComparison.Ordinal), $"escape codes in:\n{outcome.Out}\n{outcome.Error}");

    [Fact]
    public void A_user_error_is_one_unwrapped_line_on_standard_error_without_escape_codes()
    {
        using var dir = new TempDir();
        // Over 300 characters: a console would wrap it at 80 columns.
        var missing = Path.Combine(dir.Path, new string('a', 100), new string('b', 100), new string('c', 100));
        foreach (var environment in new Dictionary<string, string?>[] { new(), new() { ["NO_COLOR"] = "1" } })
        {
            var outcome = Run(["prepare", missing, "-r", "8", "-o", dir.File("out.safetensors")], environment);
            Assert.Equal(1, outcome.Code);
            Assert.Equal("", outcome.Out);
            var line = Assert.Single(outcome.ErrorLines);
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
            Assert.Contains(missing, line, StringComparison.Ordinal);
            Assert.True(line.Length > 300);
            AssertNoEscapes(outcome);
        }
    }

    [Fact]
    public void A_malformed_operator_and_an_unknown_option_are_one_line_user_errors()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 4, channels: 1, size: 8);
        var output = dir.File("measured.safetensors");
        var outcome = Run(["measure", prepared, "--operator", "blur(", "-o", output]);
        Assert.Equal(1, outcome.Code);
        Assert.Contains("operator 'blur('", Assert.Single(outcome.ErrorLines), StringComparison.Ordinal);
        Assert.False(File.Exists(output));

        // Every parse error on the one line, then where the help is.
        var unknown = Run(["prepare", dir.Path, "-r", "eight", "--bogus", "-o", output]);
        Assert.Equal(1, unknown.Code);
        Assert.Equal("", unknown.Out);
        var line = Assert.Single(unknown.ErrorLines);
        Assert.Contains("'--bogus'", line, StringComparison.Ordinal);
        Assert.Contains("'eight'", line, StringComparison.Ordinal);
        Assert.Contains("ambient prepare --help", line, StringComparison.Ordinal);
        AssertNoEscapes(unknown);
    }

    [Fact]
    public void Prepare_in_a_log_prints_one_progress_line_and_refuses_to_overwrite_its_output()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        for (var i = 0; i < 4; i++) Fixtures.WriteImage(Path.Combine(root, $"{i}.png"), Fixtures.RandomPixels(8, 8, 3, i), 8, 8, 3);
        var output = dir.File("prepared.safetensors");
        var first = Run(["prepare", root, "-r", "8", "-o", output]);
        Assert.Equal(0, first.Code);
        Assert.Equal("", first.Error);
        // A one-second stage gets one line in a log, not one per 5%.
        Assert.Single(first.OutLines, l => l.StartsWith("prepare: ", StringComparison.Ordinal));
        Assert.Contains(first.OutLines, l => l.StartsWith("prepare: 100%", StringComparison.Ordinal));
        AssertNoEscapes(first);

        var bytes = File.ReadAllBytes(output);
        var again = Run(["prepare", root, "-r", "8", "-n", "2", "-o", output]);
        Assert.Equal(1, again.Code);
        Assert.Contains(output, Assert.Single(again.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(output));
    }

    /// <summary>Skips a test when util-linux's `script` (a pseudo-terminal for a child process) is missing.</summary>
    public sealed class TerminalFactAttribute : FactAttribute
    {
        public TerminalFactAttribute()
        {
            if (!File.Exists("/usr/bin/script")) Skip = "util-linux's script is not installed: no pseudo-terminal to run the CLI in";
        }
    }

    /// <summary>A colour or style code (SGR). On a terminal .NET itself may write other escapes (keypad mode).</summary>
    private static readonly System.Text.RegularExpressions.Regex Colour = new(@"\u001b\[[0-9;]*m");

    [TerminalFact]
    public void On_a_terminal_errors_are_red_unless_NO_COLOR_or_TERM_dumb()
    {
        using var dir = new TempDir();
        var missing = dir.File("missing-folder");
        var command = $"dotnet '{Cli}' prepare '{missing}' -r 8 -o '{dir.File("out.safetensors")}'";
        Outcome OnTerminal(Dictionary<string, string?> environment) => Run(["-qec", command, "/dev/null"], environment, "/usr/bin/script");
        var colour = OnTerminal(new());
        Assert.Equal(1, colour.Code);
        Assert.Contains("\u001b[31merror:", colour.Out, StringComparison.Ordinal);
        foreach (var plain in new[] { OnTerminal(new() { ["NO_COLOR"] = "1" }), OnTerminal(new() { ["TERM"] = "dumb" }) })
        {
            Assert.Equal(1, plain.Code);
            Assert.Contains("error: ", plain.Out, StringComparison.Ordinal);
            Assert.DoesNotMatch(Colour, plain.Out);
        }
    }
}

/// <summary>Which exceptions are the user's, the environment's or ours, and how each is worded (one line).</summary>
public class ErrorReportTests
{
    private static Exception Caught(Action action) => Assert.ThrowsAny<Exception>(action);

    [Fact]
    public void Malformed_option_strings_and_damaged_json_are_user_errors()
    {
        foreach (var error in new[]
        {
            Caught(() => OperatorSpec.Parse("blur(")),
            Caught(() => OperatorSpec.Parse("pixel(p=0.5) + pool(k=2)")),
            Caught(() => SampleSet.ParseSeeds("3-x")),
            Caught(() => FeatureSpec.Parse("nope")),
            Caught(() => ConfigOverrides.Parse("training.lr")),
            Caught(() => CelebAAttributes.Parse(",")),
            Caught(() => Torch.Device.Parse("gpu")),
            Caught(() => System.Text.Json.JsonDocument.Parse("{\"count\": ")),
        })
        {
            Assert.Equal(ErrorKind.User, ErrorReport.Classify(error));
            Assert.Equal(CommandRunner.UserError, ErrorReport.ExitCode(ErrorReport.Classify(error)));
            Assert.DoesNotContain('\n', ErrorReport.OneLine(error));
        }
    }

    [Fact]
    public void A_full_disk_is_an_environment_error_naming_the_file()
    {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        var error = Caught(() =>
        {
            using var stream = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
            stream.Write(new byte[4096]);
            stream.Flush();
        });
        Assert.Equal(ErrorReport.NoSpaceLeft, error.HResult);
        Assert.Equal(ErrorKind.Environment, ErrorReport.Classify(error));
        Assert.Equal(CommandRunner.UserError, ErrorReport.ExitCode(ErrorKind.Environment));
        Assert.Contains("/dev/full", ErrorReport.OneLine(error), StringComparison.Ordinal);
        Assert.Contains("free some space", ErrorReport.OneLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public void Refused_writes_are_environment_errors_even_when_wrapped()
    {
        // Root ignores permission bits, so these are the exceptions .NET raises for EROFS and EACCES.
        var readOnly = new IOException("Read-only file system : '/runs/x/config.yaml'", 30);
        var denied = new UnauthorizedAccessException("Access to the path '/runs/x/checkpoints' is denied.");
        foreach (var error in new Exception[]
        {
            readOnly, denied, new FileNotFoundException("missing.yaml"), new AggregateException(readOnly),
            new InvalidOperationException("/data/c.safetensors: reading training data failed: Input/output error", new IOException("Input/output error", 5)),
        })
            Assert.Equal(ErrorKind.Environment, ErrorReport.Classify(error));
        Assert.Equal("Read-only file system : '/runs/x/config.yaml'", ErrorReport.OneLine(new AggregateException(readOnly)));
    }

    [Fact]
    public void Everything_else_is_an_internal_error_with_exit_code_2()
    {
        foreach (var error in new Exception[] { new InvalidOperationException("boom"), new NullReferenceException(), new IndexOutOfRangeException() })
        {
            Assert.Equal(ErrorKind.Internal, ErrorReport.Classify(error));
            Assert.Equal(CommandRunner.InternalError, ErrorReport.ExitCode(ErrorKind.Internal));
        }
    }
}

/// <summary>Tests that replace the process's standard error, one at a time.</summary>
[CollectionDefinition("console", DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection("console")]
public class InternalErrorTests
{
    private static (int Code, string Error) RunCapturingStandardError(RootCommand root, string[] args)
    {
        var original = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        try
        {
            return (CommandRunner.Run(root, args), error.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
    }

    private static RootCommand Exploding(string logDirectory)
    {
        var failing = new Command("explode");
        failing.SetAction((Func<ParseResult, int>)(_ =>
        {
            CommandRunner.LogDirectory = logDirectory;
            throw new InvalidOperationException("boom");
        }));
        return new RootCommand { failing };
    }

    [Fact]
    public void An_internal_error_is_one_line_on_standard_error_pointing_at_error_log()
    {
        using var dir = new TempDir();
        var (code, error) = RunCapturingStandardError(Exploding(dir.Path), ["explode"]);
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("boom", StringComparison.Ordinal));
        Assert.Equal($"internal error: boom (stack trace in {dir.File("error.log")})", line);
        Assert.Contains("System.InvalidOperationException: boom", File.ReadAllText(dir.File("error.log")), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unwritable_run_directory_logs_the_internal_error_in_the_temporary_folder()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a-file"), "");
        var (code, error) = RunCapturingStandardError(Exploding(Path.Combine(dir.File("a-file"), "run")), ["explode"]);
        Assert.Equal(2, code);
        var log = Path.Combine(Path.GetTempPath(), $"ambient-error-{Environment.ProcessId}.log");
        try
        {
            Assert.Contains($"internal error: boom (stack trace in {log})", error, StringComparison.Ordinal);
            Assert.Contains("System.InvalidOperationException: boom", File.ReadAllText(log), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }
}
