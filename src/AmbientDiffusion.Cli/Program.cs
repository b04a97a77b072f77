using System.CommandLine;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Cli.Commands;

var root = new RootCommand("AmbientDiffusion: train diffusion models on corrupted data only, and measure memorization.")
{
    PrepareCommand.Create(),
    CorruptCommand.Create(),
    InfoCommand.Create(),
};
return CommandRunner.Run(root, args);
