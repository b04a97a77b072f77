using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// A feature space computed from the images themselves (the analyzer calls <see cref="Extract"/> on the samples, the
/// training set and the held-out set), compared by the top-1 cosine of unit rows with the papers' thresholds.
/// </summary>
/// <param name="Name">The space's name in reports (e.g. <c>classifier</c>, <c>dinov2</c>, <c>sscd</c>).</param>
/// <param name="Description">What the features are, for the report.</param>
/// <param name="Extract">uint8 [N, C, H, W] images to float32 [N, D] rows on the CPU.</param>
public sealed record ExtractedSpace(string Name, string Description, Func<Tensor, Tensor> Extract);
