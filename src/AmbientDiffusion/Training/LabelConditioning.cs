namespace AmbientDiffusion.Training;

/// <summary>The class conditioning a loader attaches to its batches.</summary>
/// <param name="LabelDim">The model's label dimension (one-hot width); every label of the data must lie below it.</param>
/// <param name="LabelDropout">Probability that an image's label becomes the null label (classifier-free guidance).</param>
public sealed record LabelConditioning(int LabelDim, double LabelDropout);
