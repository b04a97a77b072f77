using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Loops;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>Which real and synthetic images form each generation's training set, and the loop section's checks.</summary>
public class LoopCompositionTests
{
    private static LoopComposition Compose(LoopType type, int generations = 5, int real = 10, int synthetic = 7, int pool = 100) =>
        new(new LoopSettings { Type = type, Generations = generations, RealCount = real, SyntheticCount = synthetic }, pool, seed: 3);

    [Theory]
    [InlineData(LoopType.FullySynthetic)]
    [InlineData(LoopType.Augment)]
    [InlineData(LoopType.Fresh)]
    [InlineData(LoopType.Accumulate)]
    public void Each_loop_type_has_the_papers_counts_of_real_and_synthetic_images(LoopType type)
    {
        var composition = Compose(type);
        for (var k = 1; k <= 5; k++)
        {
            var plan = composition.Plan(k);
            var (realCount, sets) = (type, k) switch
            {
                (_, 1) => (10, Array.Empty<int>()),
                (LoopType.FullySynthetic, _) => (0, [k - 1]),
                (LoopType.Accumulate, _) => (10, Enumerable.Range(1, k - 1).ToArray()),
                _ => (10, new[] { k - 1 }),
            };
            Assert.Equal(realCount, plan.RealIndices.Count);
            Assert.Equal(sets, plan.SyntheticFrom);
            Assert.Equal(realCount + 7 * sets.Length, plan.TrainingCount);
            Assert.Equal(plan.RealIndices.Count, plan.RealIndices.Distinct().Count());
            Assert.All(plan.RealIndices, i => Assert.InRange(i, 0, 99));
        }
    }

    [Fact]
    public void Fresh_draws_are_disjoint_across_generations_and_augment_keeps_one_real_set()
    {
        var fresh = Compose(LoopType.Fresh, generations: 10, real: 10);
        var draws = Enumerable.Range(1, 10).Select(k => fresh.Plan(k).RealIndices).ToList();
        Assert.Equal(100, draws.SelectMany(d => d).Distinct().Count());
        var augment = Compose(LoopType.Augment);
        Assert.All(Enumerable.Range(2, 4), k => Assert.Equal(augment.Plan(1).RealIndices, augment.Plan(k).RealIndices));
        // The first draw is the same real set in every loop type with that seed, so generation 1 is shared.
        Assert.Equal(augment.Plan(1).RealIndices, fresh.Plan(1).RealIndices);
        // Another seed draws another set.
        var other = new LoopComposition(new LoopSettings { Type = LoopType.Augment, RealCount = 10 }, 100, seed: 4);
        Assert.NotEqual(augment.Plan(1).RealIndices, other.Plan(1).RealIndices);
    }

    [Fact]
    public void Accumulate_keeps_every_earlier_synthetic_set()
    {
        var composition = Compose(LoopType.Accumulate, generations: 6);
        for (var k = 2; k <= 6; k++)
            Assert.Equal(Enumerable.Range(1, k - 1), composition.Plan(k).SyntheticFrom);
    }

    [Fact]
    public void The_real_count_comes_from_the_fraction_and_too_few_images_name_the_key()
    {
        Assert.Equal(25, LoopComposition.RealCountFor(new LoopSettings { RealFraction = 0.25 }, 100));
        Assert.Equal(100, LoopComposition.RealCountFor(new LoopSettings(), 100));
        var error = Assert.Throws<SettingException>(() => Compose(LoopType.Fresh, generations: 5, real: 30));
        Assert.Equal("real_count", error.Setting);
        Assert.Contains("5 disjoint sets of 30", error.Message, StringComparison.Ordinal);
        Assert.Equal("real_fraction", Assert.Throws<SettingException>(() => new LoopComposition(new LoopSettings { Type = LoopType.Fresh, RealFraction = 0.5 }, 100, 0)).Setting);
    }

    [Theory]
    [InlineData("type: bogus", "unknown value 'bogus'")]
    [InlineData("generations: 0", "loop.generations")]
    [InlineData("synthetic_count: 0", "loop.synthetic_count")]
    [InlineData("real_count: -1", "loop.real_count")]
    [InlineData("real_fraction: 1.5", "loop.real_fraction")]
    [InlineData("real_count: 5\n  real_fraction: 0.5", "loop.real_fraction")]
    [InlineData("guidance: 0.5", "loop.guidance")]
    [InlineData("sigma_tn: 0.2", "loop.sigma_tn")]
    [InlineData("sigma_tn_estimate: true", "loop.sigma_tn_estimate")]
    [InlineData("synthetic_as: noisy\n  sigma_tn: -1", "loop.sigma_tn")]
    [InlineData("synthetic_as: noisy\n  sigma_tn: 0.2\n  sigma_tn_estimate: true", "loop.sigma_tn")]
    [InlineData("synthetic_as: noisy", "loop.synthetic_as")]
    public void Bad_loop_settings_are_errors_naming_the_key(string setting, string key)
    {
        using var dir = new TempDir();
        var yaml = ExperimentTests.TinyConfig(dir, "loop:\n  " + setting + "\n");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(ExperimentTests.WriteConfig(dir, yaml)));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_loop_section_round_trips_through_yaml()
    {
        using var dir = new TempDir();
        var yaml = ExperimentTests.TinyConfig(dir, "loop:\n  type: accumulate\n  generations: 3\n  synthetic_count: 16\n  real_fraction: 0.5\n  retrain: finetune\n");
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, yaml));
        Assert.Equal(new LoopSettings { Type = LoopType.Accumulate, Generations = 3, SyntheticCount = 16, RealFraction = 0.5, Retrain = RetrainMode.Finetune }, config.Loop);
        Assert.Equal(config.Loop, ConfigLoader.Parse(ConfigLoader.ToYaml(config), "again").Loop);
        Assert.Equal(LoopType.Fresh, ConfigLoader.Load(dir.File("tiny.yaml"), ["loop.type=fresh"]).Loop!.Type);
    }

    [Fact]
    public void The_shipped_loop_configs_compose_from_their_dataset_and_differ_only_in_the_loop_section()
    {
        var files = Directory.GetFiles(Path.Combine(ConfigTests.RepositoryRoot(), "configs"), "loop-fmnist-*.yaml");
        Assert.Equal(6, files.Length);
        var configs = files.Select(f => ConfigLoader.Load(f)).ToList();
        foreach (var config in configs)
        {
            var composition = new LoopComposition(config.Loop!, config.Dataset!.Count, config.Seed);
            Assert.Equal(5, config.Loop!.Generations);
            Assert.Equal(1000, composition.Plan(5).SyntheticCount);
        }
        string Shared(ExperimentConfig c)
        {
            var copy = ConfigLoader.Parse(ConfigLoader.ToYaml(c), "copy");
            (copy.Name, copy.Loop) = ("", null);
            return ConfigLoader.ToYaml(copy);
        }
        Assert.Single(configs.Select(Shared).Distinct());
        Assert.Equal([1.0, 2.0], configs.Select(c => c.Loop!.Guidance).Distinct().Order());
    }

    [Fact]
    public void A_generations_training_files_hold_its_real_and_synthetic_images_and_never_the_held_out_ones()
    {
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var prepared = ExperimentTests.SmoothPrepared(dir);
        var corrupted = dir.File("corrupted.safetensors");
        using (var source = PreparedDataset.Open(prepared))
            DatasetCorruptor.Run(source, new CorruptionSpec { P = 0.5 }.ToOperator(), 2, corrupted);
        var samples = dir.File("samples");
        var synthetic = torch.randint(0, 256, [5, 1, 8, 8], ScalarType.Byte);
        SampleSet.Write(samples, synthetic, [0, 1, 2, 3, 4], new Dictionary<string, string>());
        var plan = new LoopComposition(new LoopSettings { Type = LoopType.Augment, RealCount = 6, SyntheticCount = 5 }, 24, 1).Plan(2);
        var (train, clean) = (dir.File("train.safetensors"), dir.File("train-clean.safetensors"));
        GenerationData.Write(plan, prepared, corrupted, [new SyntheticPart(1, Path.Combine(samples, SampleSet.TensorFile), null)], 1, train, clean);

        using var original = PreparedDataset.Open(prepared);
        using var composed = PreparedDataset.Open(clean);
        using var data = CorruptedDataset.Open(train);
        Assert.Equal(11, composed.Count);
        Assert.Equal(11, data.Count);
        Assert.Equal(original.HeldOutImages()!.data<byte>(), composed.HeldOutImages()!.data<byte>());
        var images = composed.Images();
        var heldOut = original.HeldOutImages()!;
        for (var i = 0; i < composed.Count; i++)
            for (var h = 0; h < heldOut.shape[0]; h++)
                Assert.False(Bytes(images[i]).SequenceEqual(Bytes(heldOut[h])), $"training image {i} is held-out image {h}");
        for (var k = 0; k < 6; k++) Assert.Equal(Bytes(original.Images()[plan.RealIndices[k]]), Bytes(images[k]));
        Assert.Equal(Bytes(synthetic), Bytes(images.narrow(0, 6, 5)));
        // Synthetic images enter as fully observed clean data.
        var (observation, mask) = (new float[64], new float[64]);
        data.ReadSample(8, observation, mask);
        Assert.All(mask, m => Assert.Equal(1f, m));
        Assert.Equal(0f, data.NoiseSigma(8));
        Assert.Equal(Bytes(synthetic[2]).Select(b => b / 127.5f - 1f), observation);
    }

    private static byte[] Bytes(Tensor t) => t.contiguous().data<byte>();
}
