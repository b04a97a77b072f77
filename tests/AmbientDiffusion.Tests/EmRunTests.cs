using AmbientDiffusion.Config;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Em;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

/// <summary>Whole EM runs on tiny data: end to end, resumed after an interrupted E-step, and the clean-data firewall.</summary>
[Collection("memory")]
public class EmRunTests
{
    /// <summary>EM on 24 smooth 8x8 images (8 held out), a 1-block network, 2 training steps per round and a 3-step MMPS.</summary>
    internal static string TinyEm(TempDir dir, string em, string data = "", string name = "tiny-em") => ExperimentTests.WriteConfig(dir, $"""
        name: {name}
        seed: 1
        data:
        {(data.Length > 0 ? data : $"  prepared: {ExperimentTests.SmoothPrepared(dir)}")}
        {(data.Length > 0 ? "" : "corruption:\n  p: 0.5\n  seed: 2")}
        loss:
          kind: edm
        {TinyRunYaml.Model}
        training:
          batch_size: 8
          lr: 0.001
          lr_warmup_kimg: 0
          ema_halflife_kimg: 0.01
          tick_kimg: 0.008
          checkpoint_kimg: 0.008
        sampling:
          seeds: 0-7
          steps: 3
          batch_size: 8
          grid: 8
        evaluation:
          k: 2
        {TinyRunYaml.MemorizationOnCpu}
        em:
          kimg_per_round: 0.016
          gaussian_iterations: 2
          shard_size: 8
          posterior:
            steps: 3
            cg_iterations: 1
            batch_size: 8
        {em}
        """, name + ".yaml");

    [Fact]
    public void Two_rounds_from_the_Gaussian_run_end_to_end_write_their_summary_and_resume_after_an_interrupted_E_step()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(TinyEm(dir, "  rounds: 2"));
        var straight = new EmRunner(dir.File("straight")).Run(config);
        Assert.Equal(2, straight.Finished);
        foreach (var k in new[] { 0, 1 })
        {
            var run = straight.Layout.Round(k);
            Assert.True(File.Exists(EmLayout.Marker(run)), $"round {k} marker");
            Assert.True(File.Exists(EmLayout.PosteriorPicture(run)));
            Assert.Equal(3, Directory.GetFiles(EmLayout.Shards(run), "shard-*").Length);
            using (var posterior = CorruptedDataset.Open(EmLayout.Posterior(run)))
                Assert.Equal((24, false), (posterior.Count, posterior.HasMissingPixels));
            Assert.True(File.Exists(Path.Combine(run.Samples, SampleSet.GridFile)));
            Assert.True(File.Exists(run.ReportFile), $"round {k} memorization report");
            Assert.True(File.Exists(Path.Combine(run.Evaluation("pixels"), "metrics.json")), $"round {k} evaluation");
        }
        Assert.True(File.Exists(EmLayout.Gaussian(straight.Layout.Round(0))));
        var rows = EmSummary.Read(straight.Layout);
        Assert.Equal([0, 1], rows.Select(r => r.Round));
        Assert.All(rows, r => Assert.True(r.Values["fd"] > 0 && r.Values.ContainsKey("recall") && r.Values.ContainsKey("memorized") && r.EStepSeconds > 0));
        var csv = File.ReadAllLines(Path.Combine(straight.Layout.Folder, "em.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("round,e_step_seconds,fd,kid,precision,recall", csv[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(straight.Layout.Folder, "em-fd.png")) && File.Exists(Path.Combine(straight.Layout.Folder, "em.md")));
        Assert.NotEmpty(Directory.GetFiles(straight.Layout.TensorBoard, TensorBoard.SummaryWriter.FilePrefix + "*"));

        // Stopped after every shard (as a kill between shards): round 0's three shards take three runs, the third of
        // which finishes round 0 and stops after one shard of round 1; then rerun: the same samples as straight through.
        var runner = new EmRunner(dir.File("interrupted"));
        var limited = new EmRunner(dir.File("interrupted")) { ShardLimit = 1 };
        Assert.Equal([0, 0, 1], Enumerable.Range(0, 3).Select(_ => limited.Run(ConfigLoader.Load(dir.File("tiny-em.yaml"))).Finished));
        var second = runner.Layout(config).Round(1);
        Assert.Single(Directory.GetFiles(EmLayout.Shards(second), "shard-*"));
        Assert.False(File.Exists(EmLayout.Posterior(second)));
        var resumed = runner.Run(ConfigLoader.Load(dir.File("tiny-em.yaml")));
        Assert.Equal(2, resumed.Finished);
        foreach (var k in new[] { 0, 1 })
            Assert.Equal(Posterior(straight.Layout.Round(k)), Posterior(resumed.Layout.Round(k)));
        Assert.Equal(File.ReadAllBytes(NumpySamples(straight.Layout.Round(1))), File.ReadAllBytes(NumpySamples(second)));

        // Rerunning skips finished rounds; another setting in the same folder would mix two runs; more rounds extend it.
        var marker = File.GetLastWriteTimeUtc(EmLayout.Marker(second));
        Assert.Equal(2, runner.Run(ConfigLoader.Load(dir.File("tiny-em.yaml"))).Finished);
        Assert.Equal(marker, File.GetLastWriteTimeUtc(EmLayout.Marker(second)));
        var changed = ConfigLoader.Load(dir.File("tiny-em.yaml"), ["em.kimg_per_round=0.024"]);
        Assert.Contains("another config", Assert.Throws<ConfigException>(() => runner.Run(changed)).Message, StringComparison.Ordinal);
    }

    private static string NumpySamples(Experiments.RunDirectory run) => run.SamplesFile.Replace(".safetensors", ".npz", StringComparison.Ordinal);

    private static byte[] Posterior(Experiments.RunDirectory run)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(EmLayout.Posterior(run));
        return file.GetTensor(CorruptedDataset.ObservationsKey).contiguous().data<byte>();
    }

    [Fact]
    public void Values_under_the_masks_never_influence_any_EM_round()
    {
        using var dir = new TempDir();
        var prepared = ExperimentTests.SmoothPrepared(dir);
        var original = dir.File("original.safetensors");
        using (var source = Data.PreparedDataset.Open(prepared)) DatasetCorruptor.Run(source, new PixelMask(0.5), 2, original);
        // A second artifact that differs only where the masks removed pixels.
        var tampered = dir.File("tampered.safetensors");
        using (var file = SafeTensors.Open(original))
        using (var scope = torch.NewDisposeScope())
        {
            var observations = file.GetTensor(CorruptedDataset.ObservationsKey);
            var masks = file.GetTensor(CorruptedDataset.MasksKey);
            var changed = torch.where(masks.eq(0), torch.randint(1, 255, observations.shape, ScalarType.Byte, generator: new Generator(1)), observations);
            Assert.True(changed.ne(observations).any().item<bool>());
            SafeTensors.Save(tampered, new List<KeyValuePair<string, Tensor>>
            {
                new(CorruptedDataset.ObservationsKey, changed),
                new(CorruptedDataset.MasksKey, masks),
                new(CorruptedDataset.NoiseSigmaKey, file.GetTensor(CorruptedDataset.NoiseSigmaKey)),
            }, file.Metadata.ToDictionary(k => k.Key, k => k.Value));
        }
        EmResult Run(string data, string name) => new EmRunner(dir.File("runs")).Run(ConfigLoader.Load(
            TinyEm(dir, "  rounds: 2", $"  prepared: {prepared}\n  corrupted: {data}", name)));
        var (a, b) = (Run(original, "original"), Run(tampered, "tampered"));
        foreach (var k in new[] { 0, 1 })
        {
            Assert.Equal(Posterior(a.Layout.Round(k)), Posterior(b.Layout.Round(k)));
            Assert.Equal(File.ReadAllBytes(NumpySamples(a.Layout.Round(k))), File.ReadAllBytes(NumpySamples(b.Layout.Round(k))));
        }
    }

    [Fact]
    public void EM_runs_on_noisy_masked_data_and_round_0_keeps_the_observed_pixels_within_the_noise()
    {
        using var dir = new TempDir();
        const double sigma = 0.1;
        var config = ConfigLoader.Load(TinyEm(dir, "  rounds: 2"), [$"corruption.noise_sigma={sigma}"]);
        var result = new EmRunner(dir.File("runs")).Run(config);
        Assert.Equal(2, result.Finished);
        var corrupted = Directory.GetFiles(dir.File("runs/data"), "*.safetensors").Single(f => f.Contains("noise", StringComparison.Ordinal));
        using var data = CorruptedDataset.Open(corrupted);
        Assert.True(data.HasNoise);
        var rms = new List<double>();
        foreach (var k in new[] { 0, 1 })
        {
            var samples = Posterior(result.Layout.Round(k));
            var (observation, mask) = (new float[64], new float[64]);
            var (sum, count) = (0.0, 0);
            for (var i = 0; i < data.Count; i++)
            {
                data.ReadSample(i, observation, mask);
                for (var p = 0; p < 64; p++)
                    if (mask[p] > 0)
                    {
                        var difference = samples[i * 64 + p] / 127.5 - 1 - observation[p];
                        (sum, count) = (sum + difference * difference, count + 1);
                    }
            }
            rms.Add(Math.Sqrt(sum / count));
        }
        // Round 0's exact Gaussian conditionals: a noisy observation's sample is not the observation but stays within
        // its noise (the posterior shrinks toward y): RMS over about 380 observed values below σ_n plus rounding, with room.
        Assert.InRange(rms[0], 0.01, sigma * 1.5);
        // Round 1 samples under round 0's network, which two training steps leave nearly constant in its input: MMPS
        // trusts the denoiser's Jacobian, so its samples are not yet near y (measured RMS 0.9); that round 1 runs through
        // on noisy data, with one σ_n group per batch, is what this checks.
        Assert.True(double.IsFinite(rms[1]));
    }

    [Fact]
    public void An_EM_config_must_train_plain_EDM_and_name_its_initialization_checkpoint()
    {
        using var dir = new TempDir();
        var path = TinyEm(dir, "  rounds: 2");
        Assert.Contains("loss.kind", Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, ["loss.kind=ambient"])).Message, StringComparison.Ordinal);
        Assert.Contains("em.checkpoint", Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, ["em.init=checkpoint"])).Message, StringComparison.Ordinal);
        Assert.Contains("em.posterior.cg_iterations", Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, ["em.posterior.cg_iterations=0"])).Message, StringComparison.Ordinal);
        var config = ConfigLoader.Load(path);
        Assert.Contains("ambient em", Assert.Throws<ConfigException>(() => new Experiments.ExperimentRunner(dir.File("runs")).Run(config)).Message, StringComparison.Ordinal);
        // A relative checkpoint is relative to the config's folder, as data paths are.
        Assert.Equal(dir.File("runs/ambient"), ConfigLoader.Load(path, ["em.init=checkpoint", "em.checkpoint=runs/ambient"]).Em!.Checkpoint);
        var missing = ConfigLoader.Load(path, ["em.init=checkpoint", $"em.checkpoint={dir.File("nothing")}"]);
        Assert.Contains("no such file", Assert.Throws<ConfigException>(() => new EmRunner(dir.File("runs")).Run(missing)).Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("runs/tiny-em")));
    }
}
