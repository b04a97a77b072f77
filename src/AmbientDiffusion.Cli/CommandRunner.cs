using System.CommandLine;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>
/// Runs the parsed command and maps failures to exit codes: 0 success, 1 a user error (a one-line message, no stack
/// trace: bad arguments, files or configs), 2 an internal error (the full exception on stderr).
/// </summary>
internal static class CommandRunner
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {OneLine(e)}");
            return UserError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"internal error: {e}");
            return InternalError;
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
        or AmbientDiffusion.Training.TrainingDivergedException;
}

/// <summary>An error in what the user asked for, reported as one line with exit code 1.</summary>
internal sealed class UserErrorException(string message) : Exception(message);
