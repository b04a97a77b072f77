using System.CommandLine;
using AmbientDiffusion.Experiments;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient import`: a network trained by EDM or the official ambient code → a run of this product.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("network") { Description = "A network file written by tools/export_edm_snapshot.py (.safetensors)." };
        var output = new Option<string>("--out", "-o") { Description = "The run folder to create (e.g. runs/edm-cifar10).", Required = true };
        var command = new Command("import", """
            Import a network trained by NVlabs/edm or giannisdaras/ambient-diffusion. Export its snapshot first with
            tools/export_edm_snapshot.py (run with that code on PYTHONPATH); the import checks every tensor against the
            architecture the file describes (the first mismatch is named) and writes a run folder whose checkpoint
            holds the network as raw and EMA weights, for `ambient sample`, `memorization` and `evaluate`.

            Examples:
              PYTHONPATH=~/edm python3 tools/export_edm_snapshot.py network-snapshot-200000.pkl -o edm.safetensors
              ambient import edm.safetensors -o runs/edm-cifar10
              ambient sample -c runs/edm-cifar10 --seeds 0-63
            """) { input, output };
        command.SetAction(result =>
        {
            var checkpoint = EdmNetworkImport.Import(result.GetValue(input)!, result.GetValue(output)!);
            AnsiConsole.MarkupLineInterpolated($"imported into [bold]{checkpoint}[/]");
            return CommandRunner.Success;
        });
        return command;
    }
}
