using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Representation;

/// <summary>
/// StableRep's multi-positive contrastive loss (Tian et al. 2023). Each embedding is L2-normalised; anchor i's logits
/// are its cosine similarities to every other row of the batch divided by the temperature (itself excluded); its target
/// distribution is uniform over the other rows that share its positive id. The loss is the cross-entropy between target
/// and softmax, averaged over anchors. With exactly one positive per anchor it is SimCLR's NT-Xent.
/// </summary>
public static class MultiPositiveContrastiveLoss
{
    /// <summary>What the self-similarity logit is replaced by: the softmax gives it no weight, and 0 × it stays 0.</summary>
    private const double ExcludedLogit = -1e9;

    /// <summary>
    /// The mean loss of <paramref name="embeddings"/> [B, D] whose rows share a positive set when their
    /// <paramref name="positiveIds"/> are equal. Every anchor needs at least one positive besides itself.
    /// </summary>
    public static Tensor Compute(Tensor embeddings, long[] positiveIds, double temperature)
    {
        if (embeddings.dim() != 2) throw new ArgumentException($"contrastive loss: embeddings must be [B, D], got [{string.Join(", ", embeddings.shape)}]");
        var b = (int)embeddings.shape[0];
        if (positiveIds.Length != b) throw new ArgumentException($"contrastive loss: {b} embeddings but {positiveIds.Length} positive ids");
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentException($"contrastive loss: temperature = {temperature}, expected a finite value > 0");
        var target = Targets(positiveIds);
        var device = embeddings.device;
        var z = embeddings.div(embeddings.norm([1], keepdim: true).clamp(min: 1e-12));
        var logits = torch.matmul(z, z.transpose(0, 1)).div(temperature);
        var index = torch.arange(b, device: device);
        var self = index.unsqueeze(1).eq(index.unsqueeze(0));
        var logProbabilities = torch.nn.functional.log_softmax(logits.masked_fill(self, ExcludedLogit), 1);
        return logProbabilities.mul(torch.tensor(target, [b, b], device)).sum([1]).mean().neg();
    }

    /// <summary>Row i: 1 / (positives of i) at each other row with i's id, 0 elsewhere; an anchor without positives is an error.</summary>
    internal static float[] Targets(long[] positiveIds)
    {
        var b = positiveIds.Length;
        var target = new float[b * b];
        for (var i = 0; i < b; i++)
        {
            var positives = 0;
            for (var j = 0; j < b; j++) if (j != i && positiveIds[j] == positiveIds[i]) positives++;
            if (positives == 0) throw new ArgumentException($"contrastive loss: anchor {i} (positive id {positiveIds[i]}) has no positive in the batch");
            for (var j = 0; j < b; j++) if (j != i && positiveIds[j] == positiveIds[i]) target[i * b + j] = 1f / positives;
        }
        return target;
    }
}
