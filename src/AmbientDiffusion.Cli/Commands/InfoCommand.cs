using System.CommandLine;
using System.Reflection;
using System.Text.Json;
using AmbientDiffusion.Torch;
using Spectre.Console;

namespace AmbientDiffusion.Cli.Commands;

/// <summary>`ambient info`: versions, devices, threads and BLAS, to check an installation and to attach to bug reports.</summary>
internal static class InfoCommand
{
    private static readonly JsonSerializerOptions Indented = AmbientDiffusion.Common.FiniteJson.Indented();

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the information as one JSON object." };
        var command = new Command("info", "Show versions, devices, threads and the BLAS libtorch uses.\n\nExamples:\n  ambient info\n  ambient info --json") { json };
        command.SetAction(result =>
        {
            var info = Collect();
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(info, Indented));
                return CommandRunner.Success;
            }
            var table = new Table().AddColumn("item").AddColumn("value");
            foreach (var (key, value) in info) table.AddRow(Markup.Escape(key), Markup.Escape(value));
            AnsiConsole.Write(table);
            return CommandRunner.Success;
        });
        return command;
    }

    private static Dictionary<string, string> Collect()
    {
        torch.Initialize();
        var cuda = torch.cuda.is_available();
        return new Dictionary<string, string>
        {
            ["ambient"] = Assembly.GetExecutingAssembly().GetName().Version?.ToString() ?? "?",
            [".NET"] = Environment.Version.ToString(),
            ["libtorch"] = torch.version,
            ["native ABI"] = torch.abi_version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CUDA available"] = cuda ? "yes" : "no",
            ["CUDA devices"] = torch.cuda.device_count().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["default device"] = Device.Auto().ToString(),
            ["CPU cores"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["intra-op threads"] = torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["BLAS"] = torch.blas,
        };
    }
}
