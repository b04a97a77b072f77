using System.Globalization;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>
/// The loss attack (Hu and Pang 2023, "Membership Inference of Diffusion Models", arXiv 2301.09956; the "loss threshold" of Yeom et al. 2018, for diffusion
/// models): a model fits its training images better, so the denoising error of a candidate clean image x,
/// λ(σ)·mean ‖D(x + σn, σ) − x‖² over fixed noise draws n and the noise levels σ of the settings (λ: EDM's loss weight,
/// so each level counts as it did in training), is lower for members; the score is minus the error.
/// <para>
/// A model trained on masked data is given a mask drawn as its training masks were (<see cref="AttackMasks"/>) and the
/// error counts every pixel. The corruption-aware variant is the training objective itself: a member is masked by the
/// very mask it was trained with (the attacker knows it) and the error counts only the pixels that mask observed; a
/// non-member gets a mask drawn with the same corruption spec (from the attack's seed, per image).
/// </para>
/// </summary>
public static class DenoisingLossAttack
{
    /// <summary>Name of the plain attack in reports.</summary>
    public const string Name = "loss";

    /// <summary>Name of the corruption-aware attack in reports.</summary>
    public const string ObservedName = "loss_observed";

    /// <summary>Scores both sets; <paramref name="observedOnly"/> runs the corruption-aware variant (a mask model and
    /// the members' training masks are needed).</summary>
    public static AttackScores Run(AttackTarget target, CandidateSet members, CandidateSet nonMembers, MembershipSettings settings, bool observedOnly,
        Action<int>? progress = null)
    {
        if (observedOnly && (target.Masking is null || members.ObservedMasks is null))
            throw new ArgumentException("the corruption-aware loss attack needs a model trained on masked data and the members' training masks (the run's corrupted dataset)");
        var sigmas = settings.Sigmas;
        var (m, mPer) = Score(target, members, settings, observedOnly, progress);
        var (n, nPer) = Score(target, nonMembers, settings, observedOnly, progress);
        var levels = string.Join(", ", sigmas.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        var description = observedOnly
            ? $"minus the λ-weighted denoising error on the pixels each image's training mask observed (members: their own mask; non-members: a mask drawn like it), σ = {levels}, {settings.NoiseDraws} draws"
            : $"minus the λ-weighted denoising error ‖D(x + σn) − x‖² (per pixel), σ = {levels}, {settings.NoiseDraws} draws";
        var perSigma = sigmas.Select((s, k) => new SigmaScores(s, mPer[k], nPer[k])).ToArray();
        return new AttackScores(observedOnly ? ObservedName : Name, description, m, n, perSigma);
    }

    private static (double[] Combined, double[][] PerSigma) Score(AttackTarget target, CandidateSet set, MembershipSettings settings, bool observedOnly, Action<int>? progress)
    {
        var sigmas = settings.Sigmas;
        var combined = new double[set.Count];
        var perSigma = sigmas.Select(_ => new double[set.Count]).ToArray();
        var shape = set.Images.shape[1..];
        foreach (var batch in set.Batches(settings.BatchSize))
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (start, count, indices, labels) = (batch.Start, batch.Count, batch.Indices, batch.Labels);
            var x = batch.Images();
            Tensor? inputMasks = null;
            var weights = torch.ones_like(x);
            if (target.Masking is { } masking)
            {
                var known = observedOnly ? batch.ObservedMasks() : null;
                var (observed, input) = AttackMasks.Draw(masking, set.Role, indices, settings.Seed, (int)shape[0], (int)shape[1], (int)shape[2], known);
                inputMasks = input;
                if (observedOnly) weights = observed.expand(x.shape).contiguous();
            }
            var pixels = weights.sum([1, 2, 3]).clamp(min: 1);
            for (var d = 0; d < settings.NoiseDraws; d++)
            {
                var noise = NoiseDraws.For(set.Role, indices, d, settings.Seed, shape);
                for (var k = 0; k < sigmas.Length; k++)
                {
                    using var inner = torch.NewDisposeScope();
                    var denoised = target.Denoise(x + noise * sigmas[k], sigmas[k], inputMasks, labels);
                    var error = ((denoised - x).square() * weights).sum([1, 2, 3]) / pixels * target.LossWeight(sigmas[k]);
                    var values = error.to(ScalarType.Float64).data<double>();
                    for (var i = 0; i < count; i++) perSigma[k][start + i] -= values[i] / settings.NoiseDraws;
                }
            }
            progress?.Invoke(count);
        }
        for (var i = 0; i < set.Count; i++) combined[i] = perSigma.Average(p => p[i]);
        return (combined, perSigma);
    }
}
