using AmbientDiffusion.Config;
using AmbientDiffusion.Em;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>
/// `ambient launch --nproc 2 -- em` end to end on the tiny EM config (24 observations in 3 shards: rank 0 draws shards
/// 0 and 2, rank 1 shard 1), against a single process of the same CLI with the same thread count (one) and the same
/// data cache, so that every byte of the posterior dataset, its provenance included, can be compared.
/// </summary>
[Collection("memory")]
public class EmLaunchTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private int Ambient(params string[] arguments)
    {
        using var ambient = new AmbientProcess(arguments);
        var code = ambient.Wait(TimeSpan.FromSeconds(240));
        output.WriteLine($"ambient {string.Join(' ', arguments)} -> {code}\n{ambient.Output}");
        return code;
    }

    private static string Posterior(string runs, string name, int round) =>
        EmLayout.Posterior(new EmLayout(Path.Combine(runs, name)).Round(round));

    private static string? ShardRank(string runs, string name, int round, int shard)
    {
        using var file = SafeTensors.Open(Path.Combine(EmLayout.Shards(new EmLayout(Path.Combine(runs, name)).Round(round)), EStep.ShardFile(shard)));
        return file.Metadata.GetValueOrDefault(EStep.RankKey);
    }

    [Fact]
    public void Two_workers_draw_round_0_from_the_Gaussian_into_the_single_process_posterior_dataset_byte_for_byte()
    {
        using var dir = new TempDir();
        var config = EmRunTests.TinyEm(dir, "  rounds: 1");
        var runs = dir.File("runs");
        // First, so that rank 0 prepares and corrupts the data while rank 1 waits.
        Assert.Equal(0, Ambient("launch", "--nproc", "2", "--", "em", config, "--runs", runs, "--set", "name=launched"));
        Assert.Equal(0, Ambient("em", config, "--runs", runs, "--set", "name=single"));

        Assert.Equal(File.ReadAllBytes(Posterior(runs, "single", 0)), File.ReadAllBytes(Posterior(runs, "launched", 0)));
        Assert.Equal(["0 of 2", "1 of 2", "0 of 2"], Enumerable.Range(0, 3).Select(s => ShardRank(runs, "launched", 0, s)));
        Assert.Null(ShardRank(runs, "single", 0, 0));
        // Rank 0 fitted the Gaussian and wrote the round's outputs and the summary; the M-step trained on both ranks.
        var round = new EmLayout(Path.Combine(runs, "launched")).Round(0);
        Assert.True(File.Exists(EmLayout.Gaussian(round)) && File.Exists(EmLayout.Marker(round)) && File.Exists(round.ReportFile));
        Assert.True(File.Exists(Path.Combine(runs, "launched", "em.md")));
        using var checkpoint = Checkpoint.Open(Checkpoint.Latest(round.Checkpoints)!);
        Assert.Equal("2", checkpoint.Metadata[DataParallel.WorldSizeKey]);
    }

    [Fact]
    public void Two_workers_draw_round_1_by_MMPS_into_the_single_process_posterior_dataset_byte_for_byte()
    {
        using var dir = new TempDir();
        var config = EmRunTests.TinyEm(dir, "  rounds: 2");
        var runs = dir.File("runs");
        Assert.Equal(0, Ambient("em", config, "--runs", runs));
        var single = File.ReadAllBytes(Posterior(runs, "tiny-em", 1));
        // Round 1 again, now by two workers, from the very round-0 checkpoint (the posterior dataset names it; two
        // workers would also train round 0 to other rounding): without round-01 the job keeps round 0 and redoes round 1.
        var layout = new EmLayout(Path.Combine(runs, "tiny-em"));
        var marker = File.GetLastWriteTimeUtc(EmLayout.Marker(layout.Round(0)));
        Directory.Delete(layout.Round(1).Path, recursive: true);
        Assert.Equal(0, Ambient("launch", "--nproc", "2", "--", "em", config, "--runs", runs));

        Assert.Equal(single, File.ReadAllBytes(Posterior(runs, "tiny-em", 1)));
        Assert.Equal(["0 of 2", "1 of 2", "0 of 2"], Enumerable.Range(0, 3).Select(s => ShardRank(runs, "tiny-em", 1, s)));
        Assert.Equal(marker, File.GetLastWriteTimeUtc(EmLayout.Marker(layout.Round(0))));
        Assert.Equal([0, 1], EmSummary.Read(layout).Select(r => r.Round));
        using var checkpoint = Checkpoint.Open(Checkpoint.Latest(layout.Round(1).Checkpoints)!);
        Assert.Equal("2", checkpoint.Metadata[DataParallel.WorldSizeKey]);
    }

    [Fact]
    public void Sigterm_to_launch_stops_both_ranks_in_the_E_step_and_the_rerun_keeps_their_shards_and_ends_on_the_same_posterior()
    {
        using var dir = new TempDir();
        var config = EmRunTests.TinyEm(dir, "  rounds: 2");
        // One observation per shard and a 30-step MMPS: round 1's E-step (24 shards) lasts long enough to be stopped in.
        string[] slow = ["--set", "em.shard_size=1", "--set", "em.posterior.steps=30"];
        var runs = dir.File("runs");
        Assert.Equal(0, Ambient(["em", config, "--runs", runs, .. slow]));
        var layout = new EmLayout(Path.Combine(runs, "tiny-em"));
        var single = File.ReadAllBytes(EmLayout.Posterior(layout.Round(1)));
        Directory.Delete(layout.Round(1).Path, recursive: true);

        var shards = EmLayout.Shards(layout.Round(1));
        string[] Written() => Directory.Exists(shards) ? Directory.GetFiles(shards, "shard-*.safetensors") : [];
        using (var ambient = new AmbientProcess(["launch", "--nproc", "2", "--all-output", "--", "em", config, "--runs", runs, .. slow]))
        {
            ambient.WaitUntil(() => Written().Length >= 2, TimeSpan.FromSeconds(120), "two shards of round 1 written");
            ambient.Signal(AmbientProcess.Sigterm);
            var code = ambient.Wait(TimeSpan.FromSeconds(120));
            output.WriteLine(ambient.Output);
            Assert.Equal(143, code);
            // Both ranks stopped in the E-step, each after its current shard: rank 0's and rank 1's shards are there, not all.
            Assert.Contains("[rank 1] 1/2 rounds finished", ambient.Flat, StringComparison.Ordinal);
        }
        var kept = Written().ToDictionary(path => path, File.GetLastWriteTimeUtc);
        Assert.InRange(kept.Count, 2, 23);
        Assert.False(File.Exists(EmLayout.Posterior(layout.Round(1))));

        Assert.Equal(0, Ambient(["launch", "--nproc", "2", "--", "em", config, "--runs", runs, .. slow]));
        Assert.Equal(24, Written().Length);
        Assert.All(kept, shard => Assert.Equal(shard.Value, File.GetLastWriteTimeUtc(shard.Key)));
        Assert.Equal(single, File.ReadAllBytes(EmLayout.Posterior(layout.Round(1))));
    }

    [Fact]
    public void Launch_refuses_an_EM_job_whose_batch_the_workers_cannot_share_or_whose_config_has_no_em_section_before_starting_any()
    {
        using var dir = new TempDir();
        var config = EmRunTests.TinyEm(dir, "  rounds: 1");
        var runs = dir.File("runs");
        using (var ambient = new AmbientProcess(["launch", "--nproc", "3", "--", "em", config, "--runs", runs]))
        {
            Assert.Equal(1, ambient.Wait(TimeSpan.FromSeconds(60)));
            Assert.Contains("training.batch_size=8 is not divisible by the 3 workers", ambient.Flat, StringComparison.Ordinal);
            Assert.DoesNotContain("rank 0 is process", ambient.Flat, StringComparison.Ordinal);
        }
        var plain = ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir));
        using (var ambient = new AmbientProcess(["launch", "--nproc", "2", "--", "em", plain, "--runs", runs]))
        {
            Assert.Equal(1, ambient.Wait(TimeSpan.FromSeconds(60)));
            Assert.Contains($"{plain}: no em section: `ambient em` needs an em: section", ambient.Flat, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(runs));
        Assert.Equal("em", Assert.Throws<ConfigException>(() => Cli.Commands.LaunchCommand.CheckBeforeStart(["em", plain], 2)).Key);
        Cli.Commands.LaunchCommand.CheckBeforeStart(["em", config, "--runs", runs], 4); // 8 = 4 x 2
    }
}
