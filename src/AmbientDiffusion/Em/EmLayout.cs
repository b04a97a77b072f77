using System.Globalization;
using AmbientDiffusion.Experiments;

namespace AmbientDiffusion.Em;

/// <summary>
/// The layout of one EM run (runs/&lt;name&gt;), owned here: <c>em.yaml</c> (the resolved config), one run directory per
/// round (<c>round-00</c>, …; each an ordinary run plus <c>estep/</c> shards, <c>posterior.safetensors</c> (the E-step's
/// samples as a dataset), <c>posterior.png</c>, <c>gaussian.safetensors</c> in round 0 of the Gaussian initialization
/// and <c>round.json</c>, the marker of a finished round), and the summary <c>em.md</c>, <c>em.csv</c>,
/// <c>em-&lt;metric&gt;.png</c>/.svg and <c>tensorboard/</c>.
/// </summary>
public sealed class EmLayout(string folder)
{
    /// <summary>The run's folder.</summary>
    public string Folder { get; } = Path.GetFullPath(folder);

#pragma warning disable CS1591
    public string Config => Path.Combine(Folder, "em.yaml");
    public string TensorBoard => Path.Combine(Folder, "tensorboard");
    public RunDirectory Round(int round) => new(Path.Combine(Folder, "round-" + round.ToString("D2", CultureInfo.InvariantCulture)));
    public static string Shards(RunDirectory run) => Path.Combine(run.Path, "estep");
    public static string Posterior(RunDirectory run) => Path.Combine(run.Path, "posterior.safetensors");
    public static string PosteriorPicture(RunDirectory run) => Path.Combine(run.Path, "posterior.png");
    public static string Gaussian(RunDirectory run) => Path.Combine(run.Path, "gaussian.safetensors");
    public static string Marker(RunDirectory run) => Path.Combine(run.Path, "round.json");
#pragma warning restore CS1591
}
