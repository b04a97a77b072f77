using System.CommandLine;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>
/// Runs the parsed command and maps outcomes to exit codes: 0 success, 1 a user error (a one-line message, no stack
/// trace: bad arguments, files or configs), 2 an internal error (one line on the console, the stack trace in
/// error.log of the run directory, or of the temporary folder before a run directory is known), 130 interrupted by
/// Ctrl+C (SIGINT) and 143 stopped by SIGTERM, each after saving a checkpoint (<see cref="StopOnSignal"/>).
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
        var parse = root.Parse(args);
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
        catch (Exception e) when (IsUserError(e))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {OneLine(e)}");
            return UserError;
        }
        catch (Exception e)
        {
            var log = WriteLog(e, args);
            AnsiConsole.MarkupLineInterpolated($"[red]internal error:[/] {OneLine(e)}");
            Console.Error.WriteLine(log is null ? e.ToString() : $"stack trace: {log}");
            return InternalError;
        }
    }

    private static string? WriteLog(Exception e, string[] args)
    {
        try
        {
            var folder = LogDirectory ?? Path.GetTempPath();
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, LogDirectory is null ? $"ambient-error-{Environment.ProcessId}.log" : "error.log");
            File.AppendAllText(path, $"{DateTime.UtcNow:O} ambient {string.Join(' ', args)}\n{e}\n\n");
            return path;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The message alone: ArgumentException appends "(Parameter 'x')" and the actual value on new lines.</summary>
    internal static string OneLine(Exception e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return message.ReplaceLineEndings(" ");
    }

    private static bool IsUserError(Exception e) => e is ArgumentException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or TorchException or DllNotFoundException or UserErrorException
        or AmbientDiffusion.Training.TrainingDivergedException or AmbientDiffusion.Common.DirectoryInUseException;
}

/// <summary>An error in what the user asked for, reported as one line with exit code 1.</summary>
internal sealed class UserErrorException(string message) : Exception(message);
