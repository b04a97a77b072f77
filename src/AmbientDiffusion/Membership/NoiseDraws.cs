using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Membership;

/// <summary>The fixed standard-normal noise of an attack: image i of a set, draw d, from the stream (attack seed,
/// <see cref="RandomStream.MembershipNoise"/>, set, i, d), so a score depends only on the image, the model and the
/// seed, never on the batch or the order.</summary>
public static class NoiseDraws
{
    /// <summary>Draw <paramref name="draw"/> for the images <paramref name="indices"/>: float32 [B, C, H, W].</summary>
    public static Tensor For(CandidateRole role, IReadOnlyList<int> indices, int draw, ulong seed, long[] imageShape)
    {
        var size = (int)(imageShape[0] * imageShape[1] * imageShape[2]);
        var values = new float[indices.Count * size];
        for (var b = 0; b < indices.Count; b++)
        {
            var random = RandomStreams.For(RandomStream.MembershipNoise, seed, (ulong)role, (ulong)indices[b], (ulong)draw);
            for (var i = 0; i < size; i++) values[b * size + i] = (float)random.NextGaussian();
        }
        return torch.tensor(values, [indices.Count, imageShape[0], imageShape[1], imageShape[2]]);
    }
}
