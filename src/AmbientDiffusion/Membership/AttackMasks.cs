using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>
/// The masks a membership attack gives a model trained on masked data, one per image from the stream (attack seed,
/// <see cref="RandomStream.MembershipMask"/>, set, image): an observation mask A' drawn by the training data's own mask
/// operator, then the further-corruption keep mask B with the same keep probability as the fixed-mask sampler's. Unlike
/// the sampler, which draws B only where A shows a pixel, B is drawn at every pixel, so that it does not depend on A:
/// the model's input mask is A ⊙ B where A is A' or, for the corruption-aware attack on a member, the mask it was
/// trained with, and B is the same either way.
/// </summary>
public static class AttackMasks
{
    /// <summary>The (observation A, input A ⊙ B) masks of a batch, float32 [B, Cm, H, W] each. <paramref name="known"/>
    /// (the members' training masks, same shape) replaces A' where given.</summary>
    public static (Tensor Observed, Tensor Input) Draw(FixedMaskSampling masking, CandidateRole role, IReadOnlyList<int> indices, ulong seed,
        int channels, int height, int width, Tensor? known)
    {
        var cm = masking.MaskChannels;
        var plane = cm * height * width;
        var observed = new float[indices.Count * plane];
        var input = new float[indices.Count * plane];
        var knownValues = known?.contiguous().data<float>();
        for (var b = 0; b < indices.Count; b++)
        {
            var random = RandomStreams.For(RandomStream.MembershipMask, seed, (ulong)role, (ulong)indices[b]);
            var sample = new CorruptionSample(new float[channels * height * width], channels, height, width, cm);
            masking.Mask.Apply(sample, random);
            for (var i = 0; i < plane; i++)
            {
                var a = knownValues is null ? sample.Mask[i] != 0 : knownValues[b * plane + i] != 0;
                var keep = masking.Further.Keeps(random);
                observed[b * plane + i] = a ? 1f : 0f;
                input[b * plane + i] = a && keep ? 1f : 0f;
            }
        }
        return (torch.tensor(observed, [indices.Count, cm, height, width]), torch.tensor(input, [indices.Count, cm, height, width]));
    }
}
