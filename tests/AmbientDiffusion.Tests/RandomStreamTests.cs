using AmbientDiffusion.Common;

namespace AmbientDiffusion.Tests;

/// <summary>Invariant 2 rests on every keyed random stream having a key of its own: the registry is the only place keys live.</summary>
public class RandomStreamTests
{
    [Fact]
    public void No_two_keyed_streams_share_a_key()
    {
        var keys = Enum.GetValues<RandomStream>().Select(s => (ulong)s).ToList();
        Assert.Equal(Enum.GetNames<RandomStream>().Length, keys.Distinct().Count());
    }

    [Fact]
    public void No_two_training_generators_share_a_seed_for_any_run_seed()
    {
        var keys = Enum.GetValues<GeneratorStream>().Select(s => (ulong)s).ToList();
        Assert.Equal(Enum.GetNames<GeneratorStream>().Length, keys.Distinct().Count());
        foreach (var seed in new ulong[] { 0, 1, 3, 0xD709_0D70, ulong.MaxValue })
        {
            var seeds = Enum.GetValues<GeneratorStream>().Select(s => RandomStreams.GeneratorSeed(s, seed)).ToList();
            Assert.Equal(seeds.Count, seeds.Distinct().Count());
        }
    }

    [Fact]
    public void Streams_of_different_purposes_draw_different_numbers_for_the_same_seed_and_index()
    {
        var firsts = Enum.GetValues<RandomStream>().Select(s => RandomStreams.For(s, 7, 11).NextUInt64()).ToList();
        Assert.Equal(firsts.Count, firsts.Distinct().Count());
    }

    [Fact]
    public void The_registry_keeps_the_streams_that_existing_artifacts_were_made_with()
    {
        // Corrupted datasets, cached subsets and checkpoints on disk were drawn with these keys: changing one changes data.
        Assert.Equal(new SeededRandom(5, 0xC0DE, 9).NextUInt64(), RandomStreams.For(RandomStream.Corruption, 5, 9).NextUInt64());
        Assert.Equal(new SeededRandom(5, 0x5EED).NextUInt64(), RandomStreams.For(RandomStream.PrepareSubset, 5).NextUInt64());
        Assert.Equal(5UL ^ 0xD709_0D70UL, RandomStreams.GeneratorSeed(GeneratorStream.Dropout, 5));
        // EM's posterior samples are keyed by (seed, round, observation, sample): a resumed E-step redraws the same ones.
        Assert.Equal(new SeededRandom(5, 0xE3_5A3F, 1, 9, 0).NextUInt64(), RandomStreams.For(RandomStream.EmPosteriorSample, 5, 1, 9, 0).NextUInt64());
    }
}
