using System.Reflection;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Cli;

/// <summary>Who an error is for: the user (what they asked for), their machine (disk, permissions), or us (a bug).</summary>
internal enum ErrorKind
{
    /// <summary>Bad arguments, option strings, configs or input files; exit 1.</summary>
    User,

    /// <summary>The environment refused: a full disk, a read-only or unwritable folder, a missing file; exit 1.</summary>
    Environment,

    /// <summary>Anything else is a bug: exit 2, stack trace in error.log.</summary>
    Internal,
}

/// <summary>
/// The one mapping from an exception to how it is reported: its <see cref="ErrorKind"/>, its one-line message and its
/// exit code. <see cref="CommandRunner"/> is its only caller; tests call it directly for errors they cannot provoke
/// (a full disk).
/// </summary>
internal static class ErrorReport
{
    // errno values that .NET on Unix keeps as an IOException's HResult: the environment refused a write.
    internal const int NoSpaceLeft = 28;    // ENOSPC
    internal const int QuotaExceeded = 122; // EDQUOT

    /// <summary>The exception that says what went wrong: wrappers (parallel loops, reflection, type initializers) removed.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                    e = aggregate.InnerExceptions[0];
                    continue;
                case TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                case TypeInitializationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    /// <summary>Whether <paramref name="e"/> (unwrapped) is the user's, the environment's or ours.</summary>
    public static ErrorKind Classify(Exception e)
    {
        var kind = KindOf(Unwrap(e));
        // A wrapper that says where (the training-data reader: "file: reading training data failed") keeps its cause's kind.
        for (var cause = Unwrap(e).InnerException; kind == ErrorKind.Internal && cause is not null; cause = cause.InnerException)
            if (KindOf(Unwrap(cause)) == ErrorKind.Environment) kind = ErrorKind.Environment;
        return kind;
    }

    private static ErrorKind KindOf(Exception e) => e switch
    {
        // Missing files and folders are IOExceptions too; whatever the file system refuses names its path.
        IOException or UnauthorizedAccessException => ErrorKind.Environment,
        // ArgumentException covers SettingException, ConfigException and the option-string parsers; JSON this tool
        // reads (manifests, run files) it wrote itself, so a parse error means a damaged or foreign input file.
        ArgumentException or InvalidDataException or UserErrorException or TorchException or DllNotFoundException
            or System.Text.Json.JsonException or AmbientDiffusion.Training.TrainingDivergedException => ErrorKind.User,
        _ => ErrorKind.Internal,
    };

    /// <summary>The process exit code for an error of <paramref name="kind"/>.</summary>
    public static int ExitCode(ErrorKind kind) => kind == ErrorKind.Internal ? CommandRunner.InternalError : CommandRunner.UserError;

    /// <summary>The message alone, on one line: ArgumentException appends "(Parameter 'x')" and values on new lines.</summary>
    public static string OneLine(Exception e)
    {
        var unwrapped = Unwrap(e);
        var message = unwrapped.Message;
        var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return unwrapped is IOException { HResult: NoSpaceLeft or QuotaExceeded } ? $"{message} (free some space or write the output elsewhere)" : message;
    }
}
