using System.CommandLine;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>
/// Runs the parsed command and maps outcomes to exit codes: 0 success, 1 a user or environment error (one line on
/// standard error naming the file, key or value; no stack trace), 2 an internal error (one line on standard error
/// pointing at error.log, which holds the stack trace: in the run directory, or the temporary folder before a run
/// directory is known), 130 interrupted by Ctrl+C (SIGINT) and 143 stopped by SIGTERM, each after saving a checkpoint
/// (<see cref="StopOnSignal"/>). <see cref="ErrorReport"/> decides which error is which.
/// </summary>
internal static class CommandRunner
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    /// <summary>Whether a worker's exit code is a stop on a signal that saved its state (130 or 143).</summary>
    public static bool IsStop(int code) => code is Interrupted or Terminated;

    /// <summary>Where the current command's internal errors are logged (its run directory), once it is known.</summary>
    public static string? LogDirectory { get; set; }

    public static int Run(RootCommand root, string[] args)
    {
        LogDirectory = null;
        StopOnSignal.Reset();
        ConsoleStyle.ConfigureOutput();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            // System.CommandLine would print each error on its own line and the help after them; a script wants one line.
            var command = CommandPath(parse.CommandResult);
            WriteError("error", $"{string.Join("; ", parse.Errors.Select(error => error.Message.TrimEnd('.')))} (see `{command} --help`)");
            return UserError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            var code = StopOnSignal.LastExitCode is > 0 and var stopped ? stopped : Interrupted;
            AnsiConsole.MarkupLine($"[yellow]{(code == Terminated ? "terminated" : "interrupted")}[/] (training saves a checkpoint first; finished stages are kept)");
            return code;
        }
        catch (Exception e)
        {
            var kind = ErrorReport.Classify(e);
            if (kind != ErrorKind.Internal)
            {
                WriteError("error", ErrorReport.OneLine(e));
                return ErrorReport.ExitCode(kind);
            }
            var log = WriteLog(e, args);
            WriteError("internal error", $"{ErrorReport.OneLine(e)} ({(log is null ? "stack trace below" : $"stack trace in {log}")})");
            if (log is null) Console.Error.WriteLine(e.ToString());
            return ErrorReport.ExitCode(kind);
        }
    }

    /// <summary>One unwrapped line on standard error; red only on a terminal that allows colour.</summary>
    private static void WriteError(string label, string message) =>
        Console.Error.WriteLine(ConsoleStyle.ErrorAnsi ? $"\u001b[31m{label}:\u001b[0m {message}" : $"{label}: {message}");

    /// <summary>"ambient train" for the command that failed to parse, for the hint to its help.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? at = result; at is System.CommandLine.Parsing.CommandResult command; at = command.Parent)
            names.Insert(0, command.Parent is null ? "ambient" : command.Command.Name);
        return string.Join(' ', names);
    }

    private static string? WriteLog(Exception e, string[] args)
    {
        foreach (var folder in LogDirectory is null ? [Path.GetTempPath()] : new[] { LogDirectory, Path.GetTempPath() })
        {
            try
            {
                Directory.CreateDirectory(folder);
                // The run directory has one error.log; the shared temporary folder one per process.
                var path = Path.Combine(folder, folder == LogDirectory ? "error.log" : $"ambient-error-{Environment.ProcessId}.log");
                File.AppendAllText(path, $"{DateTime.UtcNow:O} ambient {string.Join(' ', args)}\n{e}\n\n");
                return path;
            }
            catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
            {
                // An unwritable run directory falls back to the temporary folder, and that to standard error.
            }
        }
        return null;
    }

    /// <summary>The message alone, on one line (see <see cref="ErrorReport.OneLine"/>).</summary>
    internal static string OneLine(Exception e) => ErrorReport.OneLine(e);
}

/// <summary>An error in what the user asked for, reported as one line with exit code 1.</summary>
internal sealed class UserErrorException(string message) : Exception(message);
