using System.Globalization;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>
/// PIA, the proximal initialization attack (Kong et al., "An Efficient Membership Inference Attack for the Diffusion
/// Model by Proximal Initialization", ICLR 2024), on EDM's σ scale. The model's own noise estimate of the clean image
/// at a tiny σ₀, ε̂₀ = (x − D(x, σ₀))/σ₀, stands in for the noise (PIA's ε_θ(x₀, 0)); the image is moved to
/// x_σ = x + σ·ε̂₀ and the model asked for its noise again, ε̂ = (x_σ − D(x_σ, σ))/σ. A model that fits x makes the two
/// agree: the score is minus the mean |ε̂₀ − ε̂|^p (p = 4 as in the authors' code). Deterministic: no noise is drawn.
/// For a model trained on masked data both estimates use one mask (<see cref="AttackMasks"/>) and count only the
/// pixels it shows, where ε̂ is defined.
/// </summary>
public static class ProximalInitializationAttack
{
    /// <summary>Name in reports.</summary>
    public const string Name = "pia";

    /// <summary>Scores both sets.</summary>
    public static AttackScores Run(AttackTarget target, CandidateSet members, CandidateSet nonMembers, MembershipSettings settings, Action<int>? progress = null)
    {
        var description = FormattableString.Invariant(
            $"PIA: minus mean |ε̂(x, {settings.PiaProbeSigma}) − ε̂(x + {settings.PiaSigma}·ε̂(x, {settings.PiaProbeSigma}), {settings.PiaSigma})|^{settings.PiaNorm} (Kong et al. 2024)");
        return new AttackScores(Name, description, Score(target, members, settings, progress), Score(target, nonMembers, settings, progress), []);
    }

    private static double[] Score(AttackTarget target, CandidateSet set, MembershipSettings settings, Action<int>? progress)
    {
        var scores = new double[set.Count];
        var shape = set.Images.shape[1..];
        foreach (var batch in set.Batches(settings.BatchSize))
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (start, count, labels) = (batch.Start, batch.Count, batch.Labels);
            var x = batch.Images();
            Tensor? masks = null;
            var shown = torch.ones_like(x);
            if (target.Masking is { } masking)
            {
                masks = AttackMasks.Draw(masking, set.Role, batch.Indices, settings.Seed, (int)shape[0], (int)shape[1], (int)shape[2], null).Input;
                shown = masks.expand(x.shape).contiguous();
                x = x * shown; // what the model sees: ε̂ is taken of the masked image
            }
            Tensor Epsilon(Tensor input, double sigma) => (input * shown - target.Denoise(input, sigma, masks, labels)) / sigma;
            var first = Epsilon(x, settings.PiaProbeSigma);
            var second = Epsilon(x + first * settings.PiaSigma, settings.PiaSigma);
            var distance = ((first - second).abs().pow(settings.PiaNorm) * shown).sum([1, 2, 3]) / shown.sum([1, 2, 3]).clamp(min: 1);
            var values = distance.to(ScalarType.Float64).data<double>();
            for (var i = 0; i < count; i++) scores[start + i] = -values[i];
            progress?.Invoke(count);
        }
        return scores;
    }
}
