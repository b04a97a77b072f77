using System.CommandLine;
using AmbientDiffusion.Cli.Commands;

namespace AmbientDiffusion.Cli;

/// <summary>The `ambient` command tree.</summary>
internal static class AmbientCli
{
    public static RootCommand CreateRoot() => new("AmbientDiffusion: train diffusion models on corrupted data only, and measure memorization.")
    {
        PrepareCommand.Create(),
        CorruptCommand.Create(),
        TrainCommand.Create(),
        SampleCommand.Create(),
        MemorizationCommand.Create(),
        EvaluateCommand.Create(),
        SweepCommand.Create(),
        InfoCommand.Create(),
        ClassifierCommand.Create(),
        LaunchCommand.Create(),
        SynthesizeCommand.Create(),
        CasCommand.Create(),
        RepresentCommand.Create(),
        MeasureCommand.Create(),
        ReconstructCommand.Create(),
        LoopCommand.Create(),
        EmCommand.Create(),
        ImportCommand.Create(),
        ExportCommand.Create(),
        FigureCommand.Create(),
        FrontierCommand.Create(),
    };
}
