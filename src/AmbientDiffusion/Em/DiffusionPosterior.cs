using AmbientDiffusion.Inverse;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Em;

/// <summary>
/// Posterior samples under a trained diffusion model (the previous round's, or the initialization checkpoint): the
/// existing <see cref="PosteriorSampler"/> (MMPS or DPS) with each observation's own mask as a
/// <see cref="MaskOperator"/> and its own σ_n as the measurement noise. Rows with different σ_n are sampled as
/// separate groups, since the sampler takes one noise level per call.
/// </summary>
public sealed class DiffusionPosterior(CheckpointPrior prior, ReconstructionOptions options, ScalarType state = ScalarType.Float64) : IEmPosterior
{
    private readonly PosteriorSampler _sampler = new(options, prior.StopSigma, state);
    private readonly JacobianProduct _product = Reconstructor.Resolve(options.Jacobian, prior);

    /// <summary>The operator spec the masks are described by (the masks themselves come from the data).</summary>
    private static readonly OperatorSpec MaskSpec = new() { Kind = OperatorKind.Pixel };

    /// <inheritdoc />
    public string Describe() => $"{prior.CheckpointPath} ({prior.Mode.Describe()}), {Common.Yaml.EnumName(options.Method)} with {options.Steps} steps" +
                                (options.Method == PosteriorMethod.Mmps ? $" and {options.CgIterations} CG iterations" : "") +
                                (state == ScalarType.Float32 ? ", float32 state" : "");

    /// <inheritdoc />
    public Tensor Sample(Tensor y, Tensor masks, IReadOnlyList<double> noiseSigmas, IReadOnlyList<ulong> seeds)
    {
        using var scope = torch.NewDisposeScope();
        var rows = (int)y.shape[0];
        var result = new Tensor[rows];
        foreach (var group in Enumerable.Range(0, rows).GroupBy(i => noiseSigmas[i]))
        {
            var index = torch.tensor(group.Select(i => (long)i).ToArray());
            var groupSeeds = group.Select(i => seeds[i]).ToList();
            var op = new MaskOperator(MaskSpec, prior.Shape, masks.index_select(0, index));
            var x = _sampler.Sample(prior.For(groupSeeds), op, y.index_select(0, index), groupSeeds, prior.Shape, group.Key, _product);
            var k = 0;
            foreach (var i in group) result[i] = x[k++];
        }
        return scope.MoveToOuter(torch.stack(result).to(ScalarType.Float64));
    }

    /// <inheritdoc />
    public void Dispose() => prior.Dispose();
}
