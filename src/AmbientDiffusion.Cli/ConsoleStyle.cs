using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>
/// When the CLI may use ANSI escape codes: only on a terminal, never under <c>NO_COLOR</c> (any value) or
/// <c>TERM=dumb</c>, so that logs, pipes and scripts see plain text. Standard output away from a terminal is also
/// never wrapped: a log keeps a path or a message on one line however long it is.
/// </summary>
internal static class ConsoleStyle
{
    /// <summary>Width given to standard output away from a terminal: wide enough that no line is ever wrapped.</summary>
    private const int UnwrappedWidth = 100_000;

    /// <summary>Whether a stream may carry ANSI escape codes; <paramref name="redirected"/> says it is not a terminal.</summary>
    internal static bool Ansi(bool redirected) =>
        !redirected
        && Environment.GetEnvironmentVariable("NO_COLOR") is null
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Whether standard error may carry ANSI escape codes.</summary>
    internal static bool ErrorAnsi => Ansi(Console.IsErrorRedirected);

    /// <summary>Points Spectre's console at standard output with the rules above.</summary>
    public static void ConfigureOutput()
    {
        var redirected = Console.IsOutputRedirected;
        var ansi = Ansi(redirected);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (redirected) console.Profile.Width = UnwrappedWidth;
        AnsiConsole.Console = console;
    }
}
