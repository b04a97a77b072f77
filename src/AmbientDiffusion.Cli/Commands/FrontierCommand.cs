using System.CommandLine;
using AmbientDiffusion.Experiments;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient frontier`: the memorization–quality trade-off over analysed runs, as a table and charts.</summary>
internal static class FrontierCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run directories (each with report/ from the pipeline or `ambient memorization`; membership.json when the attacks ran), or sweep folders, whose run subfolders are taken.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: frontier.csv, frontier.md and the trade-off charts.", Required = true };
        var overwrite = OutputTarget.OverwriteOption();
        var command = new Command("frontier", """
            Collect the memorization-quality trade-off of many runs: per run N (training images), corruption p,
            objective and seed, with the flagged share, d1 < 0.05, the membership attacks' AUC and TPR, FD and recall
            with floors and the generalization gap; runs of equal (N, p, objective) averaged over seeds (mean ± sd).
            Writes frontier.csv, frontier.md and quality-against-memorization charts (one point per cell, labelled by p).

            Examples:
              ambient frontier runs/frontier-n16 runs/frontier-n32 -o docs/memorization-frontier
              ambient frontier runs/frontier-n16/p=0.0_kind=edm runs/frontier-n16/p=0.8_kind=ambient -o out
            """) { runs, output, overwrite };
        command.SetAction(result =>
        {
            var folders = new List<string>();
            foreach (var path in result.GetValue(runs)!)
            {
                if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such run or sweep folder");
                if (File.Exists(new RunDirectory(path).Config)) folders.Add(path);
                else folders.AddRange(Directory.EnumerateDirectories(path).Where(d => File.Exists(new RunDirectory(d).Config)).Order(StringComparer.Ordinal));
            }
            if (folders.Count == 0) throw new ArgumentException("no run directories (folders with a config.yaml) among the arguments");
            using var target = OutputTarget.Folder(result.GetValue(output)!, result.GetValue(overwrite));
            var (read, skipped) = FrontierSummary.Read(folders);
            FrontierSummary.Write(read, skipped, target.WritePath);
            target.Commit();
            AnsiConsole.MarkupLineInterpolated($"wrote [bold]{target.Path}[/]: {read.Count} runs in {FrontierSummary.Cells(read).Count} cells{(skipped.Count > 0 ? $", {skipped.Count} without a report skipped" : "")}");
            return CommandRunner.Success;
        });
        return command;
    }
}
