namespace AmbientDiffusion.Sampling;

/// <summary>The class of each sample of a class-conditional model, and the class names by id (empty when the training
/// data named none).</summary>
public sealed record SampleLabels(IReadOnlyList<long> Classes, IReadOnlyList<string> ClassNames);
