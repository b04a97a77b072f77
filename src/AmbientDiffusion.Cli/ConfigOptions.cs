using System.CommandLine;
using AmbientDiffusion.Config;
using Spectre.Console;

namespace AmbientDiffusion.Cli;

/// <summary>Options shared by the commands that read an experiment config: overrides, the runs folder and a dry run.</summary>
internal sealed class ConfigOptions
{
    public Argument<string> Config { get; } = new("config") { Description = "The experiment's YAML config." };
    public Option<string[]> Set { get; } = new("--set") { Description = "Override a config value: key.path=value (repeatable), e.g. --set training.duration_kimg=2.", AllowMultipleArgumentsPerToken = false };
    public Option<string> Runs { get; } = new("--runs") { Description = "Folder of run directories (and of the data cache, <runs>/data).", DefaultValueFactory = _ => "runs" };
    public Option<bool> DryRun { get; } = new("--dry-run") { Description = "Print the resolved config (defaults filled in, overrides applied) and exit." };

    public void AddTo(Command command)
    {
        command.Add(Config);
        command.Add(Set);
        command.Add(Runs);
        command.Add(DryRun);
    }

    public ExperimentConfig Load(ParseResult result) => ConfigLoader.Load(result.GetValue(Config)!, result.GetValue(Set) ?? []);

    /// <summary>Prints the resolved config when --dry-run is given; returns whether it was.</summary>
    public bool PrintIfDryRun(ParseResult result, ExperimentConfig config)
    {
        if (!result.GetValue(DryRun)) return false;
        Console.Write(ConfigLoader.ToYaml(config));
        return true;
    }
}
