using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Loops;

namespace AmbientDiffusion.Tests;

/// <summary>One writer per run directory and output folder (<see cref="DirectoryLock"/>): a second writer is refused
/// naming the holder, and a dead holder never blocks.</summary>
public partial class DirectoryLockTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    /// <summary>"DIR is in use by pid P on host H since T (DIR/.lock)" for this process as the holder.</summary>
    private static void AssertNamesThisProcess(string directory, string message)
    {
        var match = InUse().Match(message);
        Assert.True(match.Success, message);
        Assert.Equal(directory, match.Groups["dir"].Value);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), match.Groups["pid"].Value);
        Assert.Equal(Environment.MachineName, match.Groups["host"].Value);
        var since = DateTime.Parse(match.Groups["since"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.InRange(since, DateTime.UtcNow.AddMinutes(-10), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(Path.Combine(directory, DirectoryLock.FileName), match.Groups["file"].Value);
    }

    [Fact]
    public void A_second_writer_is_refused_naming_pid_host_and_start_time_until_the_first_releases_the_folder()
    {
        using var dir = new TempDir();
        var folder = dir.File("runs/x");
        using (var first = DirectoryLock.Acquire(folder))
        {
            Assert.Equal(Environment.ProcessId, DirectoryLock.RecordedHolder(folder)!.Pid);
            // Two locks conflict within one process too (flock is per open file, not per process).
            var refused = Assert.Throws<DirectoryInUseException>(() => DirectoryLock.Acquire(folder));
            AssertNamesThisProcess(folder, refused.Message);
            Assert.Equal(folder, refused.Directory);
        }
        Assert.Null(DirectoryLock.RecordedHolder(folder));
        using (DirectoryLock.Acquire(folder))
            Assert.Equal(Environment.ProcessId, DirectoryLock.RecordedHolder(folder)!.Pid);
    }

    [Fact]
    public void A_lock_file_left_behind_by_a_dead_process_does_not_block()
    {
        using var dir = new TempDir();
        int dead;
        using (var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            exited.WaitForExit();
            dead = exited.Id;
        }
        Directory.CreateDirectory(dir.File("run"));
        File.WriteAllText(Path.Combine(dir.File("run"), DirectoryLock.FileName), $$"""{"pid":{{dead}},"host":"{{Environment.MachineName}}","since":"2026-01-01T00:00:00.0000000Z"}""");
        using var taken = DirectoryLock.Acquire(dir.File("run"));
        Assert.Equal(Environment.ProcessId, DirectoryLock.RecordedHolder(dir.File("run"))!.Pid);
    }

    [Fact]
    public void A_second_train_of_a_running_run_exits_1_naming_its_process_and_a_killed_holder_does_not_block()
    {
        using var dir = new TempDir();
        var config = DistributedTrainerTests.Config(DistributedTrainerTests.MaskedData(dir), globalBatch: 8);
        config.Training = config.Training with { DurationKimg = 100, TickKimg = 0.008 }; // runs until it is killed
        config.Memorization.Enabled = false;
        var path = dir.File("dist.yaml");
        File.WriteAllText(path, ConfigLoader.ToYaml(config));
        var run = Path.Combine(dir.File("runs"), "dist");
        using var holder = new AmbientProcess(["train", path, "--runs", dir.File("runs")]);
        holder.WaitUntil(() => File.Exists(Path.Combine(run, "metrics.jsonl")), TimeSpan.FromSeconds(90), "training");

        using (var second = new AmbientProcess(["train", path, "--runs", dir.File("runs")]))
        {
            Assert.Equal(1, second.Wait(TimeSpan.FromSeconds(60)));
            output.WriteLine(second.Output);
            Assert.Contains($"{run} is in use by pid {holder.Id} on host {Environment.MachineName} since ", second.Flat);
            Assert.Contains($"({Path.Combine(run, DirectoryLock.FileName)})", second.Flat);
        }
        // Only the holder wrote metrics: one line per step, in order.
        var steps = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, steps.Count).Select(s => (long)s), steps);

        holder.Signal(AmbientProcess.Sigkill);
        holder.Wait(TimeSpan.FromSeconds(30));
        using var next = DirectoryLock.Acquire(run);
        Assert.Equal(Environment.ProcessId, DirectoryLock.RecordedHolder(run)!.Pid);
    }

    [Fact]
    public void Train_sweep_and_loop_refuse_a_folder_another_writer_holds_before_writing_to_it()
    {
        using var dir = new TempDir();
        var configPath = ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir));
        var config = ConfigLoader.Load(configPath);
        var run = Path.Combine(dir.File("runs"), config.Name);
        using (DirectoryLock.Acquire(run))
        {
            Assert.Equal(1, Ambient("train", configPath, "--runs", dir.File("runs")));
            AssertNamesThisProcess(run, Assert.Throws<DirectoryInUseException>(() => new ExperimentRunner(dir.File("runs")).Run(config)).Message);
        }
        Assert.Equal([Path.Combine(run, DirectoryLock.FileName)], Directory.GetFileSystemEntries(run));

        var sweep = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir, "sweep:\n  grid:\n    corruption.p: [0.2, 0.6]\n"), "sweep.yaml"));
        var sweeps = new SweepRunner(dir.File("sweeps"));
        using (DirectoryLock.Acquire(sweeps.Folder(sweep)))
            AssertNamesThisProcess(sweeps.Folder(sweep), Assert.Throws<DirectoryInUseException>(() => sweeps.Run(sweep)).Message);
        Assert.Equal([Path.Combine(sweeps.Folder(sweep), DirectoryLock.FileName)], Directory.GetFileSystemEntries(sweeps.Folder(sweep)));

        var loop = ConfigLoader.Load(LoopRunTests.TinyLoop(dir, "  type: augment\n  generations: 2\n  synthetic_count: 8\n  real_count: 12"));
        var loops = new LoopRunner(dir.File("loops"));
        var folder = loops.Layout(loop).Folder;
        using (DirectoryLock.Acquire(folder))
            AssertNamesThisProcess(folder, Assert.Throws<DirectoryInUseException>(() => loops.Run(loop)).Message);
        Assert.Equal([Path.Combine(folder, DirectoryLock.FileName)], Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void Synthesize_refuses_an_output_folder_another_export_holds()
    {
        using var dir = new TempDir();
        ConditionalData.Train(dir, ConditionalData.Corrupted(dir, ConditionalData.Prepared(dir, 16)), duration: 0.016);
        var output = dir.File("synthetic");
        using (DirectoryLock.Acquire(output))
            Assert.Equal(1, Ambient("synthesize", dir.File("run"), "--per-class", "2", "--steps", "3", "-o", output));
        Assert.Equal([Path.Combine(output, DirectoryLock.FileName)], Directory.GetFileSystemEntries(output));
        Assert.Equal(0, Ambient("synthesize", dir.File("run"), "--per-class", "2", "--steps", "3", "-o", output));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "top"), "*.png").Length);
    }

    [GeneratedRegex(@"^(?<dir>.+) is in use by pid (?<pid>\d+) on host (?<host>\S+) since (?<since>\S+Z) \((?<file>.+)\)$")]
    private static partial Regex InUse();
}
