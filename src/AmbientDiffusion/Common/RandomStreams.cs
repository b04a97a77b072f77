namespace AmbientDiffusion.Common;

/// <summary>
/// Every keyed random stream of the product (invariant 2: corruption and every other draw derive from (seed, key,
/// index) with a local generator, never global state). Each stream's key appears here and nowhere else; a test checks
/// that no two keys collide, because two purposes sharing a key would draw correlated numbers.
/// </summary>
public enum RandomStream : ulong
{
    /// <summary>The dataset corruption of one image: (corruption seed, image index).</summary>
    Corruption = 0xC0DE,

    /// <summary>The seeded subset of training images queried by the copy analysis's train → train baseline: (baseline seed).</summary>
    BaselineTrainQueries = 1,

    /// <summary>The seeded subset of held-out images queried by the held-out → train baseline: (baseline seed).</summary>
    BaselineHeldOutQueries = 2,

    /// <summary>The seeded subset of training images a membership attack scores: (attack seed).</summary>
    MembershipMembers = 3,

    /// <summary>The seeded subset of held-out images a membership attack scores: (attack seed).</summary>
    MembershipNonMembers = 4,

    /// <summary>The further-corruption keep mask of one image in <c>fixed</c> mode: (training seed, image index).</summary>
    FixedFurtherCorruption = 0xB0B,

    /// <summary>The loader's permutation of one epoch: (training seed, epoch).</summary>
    EpochShuffle = 0x5A3F,

    /// <summary>The loader's horizontal flip of one position in the image stream: (training seed, position).</summary>
    Flip = 0xF11B,

    /// <summary>The fixed mask of one sample of the fixed-mask sampler: (sample seed).</summary>
    SamplerMask = 0x5A3F1E,

    /// <summary>The subset selection of <c>prepare</c>: (prepare seed).</summary>
    PrepareSubset = 0x5EED,

    /// <summary>The held-out subset of <c>prepare</c> when it comes from a separate source (e.g. a test split): (prepare seed).</summary>
    PrepareHeldOutSubset = 0x4E1D,

    /// <summary>The in-product classifier's permutation of one epoch: (classifier seed, epoch).</summary>
    ClassifierShuffle = 0xC1A5,

    /// <summary>The split of a reference set into the two halves of a metric's floor: (evaluation seed).</summary>
    EvaluationSplit = 0x5350_4C49_54,

    /// <summary>The loader's label dropout (classifier-free guidance) of one position in the image stream: (training seed, position).</summary>
    LabelDropout = 0x1ABE_1D70,

    /// <summary>KID's random subsets: (evaluation seed, subset, side 0 = first set / 1 = second).</summary>
    KidSubsets = 0x4B1D,

    /// <summary>The libtorch generator of one training example — its σ, diffusion noise and redrawn further corruption:
    /// (training seed, position in the image stream). Keyed by position, not by rank or batch, so any number of
    /// workers and any batch split draw the same numbers for the same example.</summary>
    TrainingExample = 0x7E_A1,

    /// <summary>The real training subset of the Classification Accuracy Score's baseline: (CAS seed).</summary>
    CasRealSubset = 0xCA5,

    /// <summary>The contrastive encoder's batches of one epoch (anchors and their positives): (probe seed, epoch).</summary>
    ContrastiveBatches = 0xC0B7,

    /// <summary>The augmentation of one contrastive batch: (probe seed, epoch, batch).</summary>
    ContrastiveAugmentation = 0xA06,

    /// <summary>The linear probe's permutation of one epoch: (probe seed, epoch).</summary>
    LinearProbeShuffle = 0x1BE5,

    /// <summary>The per-image state of a forward operator (mask, motion kernel) of <c>measure</c>: (measurement seed, image index).</summary>
    MeasurementOperator = 0x3EA5_0E,

    /// <summary>The shared compressed-sensing matrix of <c>measure</c>: (measurement seed).</summary>
    MeasurementMatrix = 0x3EA5_3A,

    /// <summary>The measurement noise of one image of <c>measure</c>: (measurement seed, image index).</summary>
    MeasurementNoise = 0x3EA5_4E,

    /// <summary>The order in which a self-consuming loop draws its real images (fresh draws are consecutive slices): (loop seed).</summary>
    LoopRealDraw = 0x100B_5EA1,

    /// <summary>The noise x + σ_tn·z of one synthetic image in the loop's ambient arm: (loop seed, generation, image).</summary>
    LoopSyntheticNoise = 0x100B_2015E,

    /// <summary>The σ_tn estimator of one synthetic set: its real subset (seed), fold split (seed, 1) and noise generator
    /// (seed, 2), where seed is the loop seed XOR the set's generation.</summary>
    LoopNoiseClassifier = 0x100B_C1A5,

    /// <summary>The resamples of one bootstrap interval of a report: (bootstrap seed, interval key).</summary>
    Bootstrap = 0xB007_5EED,

    /// <summary>The diffusion noise of one membership-attack draw: (attack seed, set 0 = members / 1 = non-members, image, draw).</summary>
    MembershipNoise = 0x3E3B_4E,

    /// <summary>The mask a membership attack gives a mask-conditioned model for one image (observation mask, then
    /// further-corruption keep draw): (attack seed, set 0 = members / 1 = non-members, image).</summary>
    MembershipMask = 0x3E3B_3A,

    /// <summary>The posterior sample of one observation in one EM round (its initial noise, or its Gaussian draw):
    /// (EM seed, round, observation index, sample of that observation).</summary>
    EmPosteriorSample = 0xE3_5A3F,
}

/// <summary>
/// The libtorch generators of a training run that are not per example, each seeded by the run's seed XOR its key. Listed here for the same reason as <see cref="RandomStream"/>.
/// </summary>
public enum GeneratorStream : ulong
{
    /// <summary>Dropout masks.</summary>
    Dropout = 0xD709_0D70,

    /// <summary>Initial weights.</summary>
    Initialization = 0x1417,
}

/// <summary>Makes the generators of the registered streams.</summary>
public static class RandomStreams
{
    /// <summary>The keyed generator of <paramref name="stream"/> for <paramref name="seed"/> and the stream's indices.</summary>
    public static SeededRandom For(RandomStream stream, ulong seed, params ReadOnlySpan<ulong> indices)
    {
        Span<ulong> keys = stackalloc ulong[indices.Length + 1];
        keys[0] = (ulong)stream;
        indices.CopyTo(keys[1..]);
        return new SeededRandom(seed, keys);
    }

    /// <summary>A 64-bit seed for a libtorch generator, drawn from the keyed stream (a libtorch CPU generator keeps
    /// only its low 32 bits: mt19937's seed).</summary>
    public static ulong Seed(RandomStream stream, ulong seed, params ReadOnlySpan<ulong> indices) => For(stream, seed, indices).NextUInt64();

    /// <summary>The seed of a run's libtorch generator for <paramref name="stream"/>.</summary>
    public static ulong GeneratorSeed(GeneratorStream stream, ulong seed) => seed ^ (ulong)stream;
}
