using System.Globalization;
using AmbientDiffusion.Experiments;

namespace AmbientDiffusion.Loops;

/// <summary>
/// The layout of one loop (one arm, one seed: runs/&lt;name&gt;/seed-&lt;seed&gt;), owned here: <c>loop.yaml</c> (the resolved loop config), one run directory per
/// generation (<c>gen-01</c>, …; each an ordinary run plus <c>train.safetensors</c>, <c>train-clean.safetensors</c>,
/// <c>sigma_tn.json</c> in the ambient arm and <c>generation.json</c>, the marker of a finished generation). The
/// summary of every arm and seed under the runs folder is <see cref="LoopSummary"/>'s.
/// </summary>
public sealed class LoopLayout(string folder)
{
    /// <summary>The loop's folder.</summary>
    public string Folder { get; } = Path.GetFullPath(folder);

#pragma warning disable CS1591
    public string Config => Path.Combine(Folder, ConfigFile);
    public RunDirectory Generation(int generation) => new(Path.Combine(Folder, "gen-" + generation.ToString("D2", CultureInfo.InvariantCulture)));
    public static string TrainingData(RunDirectory run) => Path.Combine(run.Path, "train.safetensors");
    public static string CleanTrainingData(RunDirectory run) => Path.Combine(run.Path, "train-clean.safetensors");
    public static string SigmaTn(RunDirectory run) => Path.Combine(run.Path, "sigma_tn.json");
    public static string Marker(RunDirectory run) => Path.Combine(run.Path, "generation.json");
#pragma warning restore CS1591

    /// <summary>Folder name of the loop of seed <paramref name="seed"/> inside its arm's folder.</summary>
    public static string SeedFolder(ulong seed) => "seed-" + seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>Name of the file whose presence makes a folder a loop.</summary>
    public const string ConfigFile = "loop.yaml";
}
