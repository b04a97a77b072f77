using System.CommandLine;
using AmbientDiffusion.Reporting;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient figure`: a figure described in JSON → PNG and SVG, drawn by the product's chart code.</summary>
internal static class FigureCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("spec") { Description = "A JSON description of the figure (kind: line, histogram, scatter or roc; see docs/tools/figures.py)." };
        var output = new Option<string>("--out", "-o") { Description = "Output path without extension: writes OUT.png and OUT.svg.", Required = true };
        var command = new Command("figure", """
            Draw a figure from a JSON description (the values of a committed table, say) with the charts the reports use.

            Example:
              ambient figure loop-fd.json -o docs/self-consuming-loops/loop-fd
            """) { input, output };
        command.SetAction(result =>
        {
            var spec = FigureSpec.Load(result.GetValue(input)!);
            var stem = result.GetValue(output)!;
            var folder = Path.GetDirectoryName(Path.GetFullPath(stem))!;
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--out {stem}: the folder {folder} does not exist");
            spec.ToFigure().Write(folder, Path.GetFileName(stem));
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{stem}.png[/] and [bold]{stem}.svg[/]");
            return CommandRunner.Success;
        });
        return command;
    }
}
