using System.CommandLine;
using AmbientDiffusion.Training;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient export`: a checkpoint's network → a file the EDM or ambient-diffusion code loads.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "A checkpoint file, or a run directory (its newest checkpoint).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The network file to write (.safetensors).", Required = true };
        var raw = new Option<bool>("--raw") { Description = "Export the raw training weights instead of the EMA." };
        var command = new Command("export", """
            Export a checkpoint's network for NVlabs/edm (ungated networks) or giannisdaras/ambient-diffusion (gated
            networks with gate_activation sigmoid_twice): EDMPrecond's state_dict and constructor arguments, which
            tools/load_edm_snapshot.py loads with load_state_dict(strict=True) and pickles as an EDM snapshot.
            Ambient models (with mask input) have no counterpart in that code and are refused.

            Examples:
              ambient export -c runs/fmnist-clean -o fmnist.safetensors
              PYTHONPATH=~/edm python3 tools/load_edm_snapshot.py fmnist.safetensors -o network-snapshot.pkl
            """) { checkpoint, output, raw };
        command.SetAction(result =>
        {
            var path = SampleCommand.ResolveCheckpoint(result.GetValue(checkpoint)!);
            var outputPath = result.GetValue(output)!;
            EdmNetworkExport.Export(path, outputPath, ema: !result.GetValue(raw));
            AnsiConsole.MarkupLineInterpolated($"exported [bold]{path}[/] to [bold]{outputPath}[/]");
            return CommandRunner.Success;
        });
        return command;
    }
}
