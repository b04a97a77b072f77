using System.CommandLine;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Cli;

/// <summary>
/// The sampler settings a command may type on top of a run's own (the <c>sampling:</c> section its checkpoint
/// records): one definition of each option and of how it overrides, shared by <c>sample</c> and <c>synthesize</c>.
/// </summary>
internal sealed class RunSamplingOverrides
{
    public Option<int?> Steps { get; } = new("--steps") { Description = "Heun steps (2N-1 network evaluations); default: the run config's sampling.steps." };

    public Option<double?> SigmaMin { get; } = new("--sigma-min") { Description = "Smallest noise level of the schedule; default: the run config's sampling.sigma_min." };

    public Option<double?> Guidance { get; } = new("--guidance") { Description = "Class-conditional models: classifier-free guidance weight g (1 = conditional, 0 = unconditional); default: the run config's sampling.guidance." };

    /// <summary><paramref name="configured"/> with every option the user typed on top.</summary>
    public SamplingSettings Apply(ParseResult result, SamplingSettings configured) => configured with
    {
        Steps = result.GetValue(Steps) ?? configured.Steps,
        SigmaMin = result.GetValue(SigmaMin) ?? configured.SigmaMin,
        Guidance = result.GetValue(Guidance) ?? configured.Guidance,
    };
}
