using System.Diagnostics;
using System.Text.RegularExpressions;
using AmbientDiffusion.Config;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>`ambient launch` end to end: worker processes of the CLI (ambient.dll next to the tests), Gloo over loopback.</summary>
[Collection("memory")]
public partial class DistributedLaunchTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "ambient.dll");

    /// <summary>A running `dotnet ambient.dll ...` whose output is collected line by line.</summary>
    private sealed class Ambient : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];

        public Ambient(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Cli);
            foreach (var a in arguments) start.ArgumentList.Add(a);
            start.Environment["OPENBLAS_NUM_THREADS"] = "1";
            start.Environment[DataParallel.TimeoutVariable] = "20";
            foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => Add(e.Data);
            _process.ErrorDataReceived += (_, e) => Add(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        private void Add(string? line)
        {
            if (line is null) return;
            lock (_lines) _lines.Add(line);
        }

        /// <summary>The output on one line, whitespace collapsed (the console wraps long lines at 80 columns).</summary>
        public string Flat => System.Text.RegularExpressions.Regex.Replace(Output, @"\s+", " ");

        public string Output
        {
            get
            {
                lock (_lines) return string.Join('\n', _lines);
            }
        }

        public int Wait(TimeSpan timeout)
        {
            if (!_process.WaitForExit(timeout))
            {
                _process.Kill(entireProcessTree: true);
                Assert.Fail($"ambient did not exit within {timeout.TotalSeconds} s:\n{Output}");
            }
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }

    private static string WriteConfig(TempDir dir, double durationKimg)
    {
        var config = DistributedTrainerTests.Config(DistributedTrainerTests.MaskedData(dir), globalBatch: 8);
        config.Training = config.Training with { DurationKimg = durationKimg, CheckpointKimg = 0.04 /* every 5 steps */, TickKimg = 0.04 };
        config.Memorization.Enabled = false;
        var path = dir.File("dist.yaml");
        File.WriteAllText(path, ConfigLoader.ToYaml(config));
        return path;
    }

    private static float[] FinalWeights(string runs)
    {
        var latest = Checkpoint.Latest(Path.Combine(runs, "dist", "checkpoints")) ?? throw new InvalidOperationException("no checkpoint");
        using var file = Checkpoint.Open(latest);
        using var scope = torch.NewDisposeScope();
        return file.Keys.Where(k => k.StartsWith(Checkpoint.ModelPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .SelectMany(k => file.GetTensor(k).reshape(-1).data<float>()).ToArray();
    }

    [Fact]
    public void A_job_missing_a_worker_fails_within_the_timeout_naming_the_rendezvous_and_rank()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir, 0.04);
        var port = DistributedTrainerTests.FreePort();
        var clock = Stopwatch.StartNew();
        using var ambient = new Ambient(["train", config, "--runs", dir.File("runs")], new Dictionary<string, string>
        {
            ["RANK"] = "0", ["WORLD_SIZE"] = "2", ["MASTER_ADDR"] = "127.0.0.1", ["MASTER_PORT"] = $"{port}", [DataParallel.TimeoutVariable] = "3",
        });
        Assert.Equal(1, ambient.Wait(TimeSpan.FromSeconds(60)));
        Assert.InRange(clock.Elapsed.TotalSeconds, 3, 40);
        Assert.Contains($"init (rendezvous at 127.0.0.1:{port}) on rank 0 of 2 failed after", ambient.Flat);
    }

    [Fact]
    public void A_bad_launch_variable_is_a_one_line_error_naming_it()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir, 0.04);
        using var ambient = new Ambient(["train", config, "--runs", dir.File("runs")], new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "2", ["MASTER_ADDR"] = "127.0.0.1", ["MASTER_PORT"] = "port" });
        Assert.Equal(1, ambient.Wait(TimeSpan.FromSeconds(60)));
        Assert.Contains("MASTER_PORT='port' is invalid: expected an integer in 1..65535", ambient.Flat);
    }

    [Fact]
    public void A_killed_worker_stops_the_job_naming_it_and_two_workers_resume_to_the_uninterrupted_weights()
    {
        using var dir = new TempDir();
        var config = WriteConfig(dir, durationKimg: 0.4); // 50 steps, a checkpoint every 5
        var straightRuns = dir.File("straight");
        using (var straight = new Ambient(["launch", "--nproc", "2", "--", "train", config, "--runs", straightRuns]))
        {
            var code = straight.Wait(TimeSpan.FromSeconds(120));
            output.WriteLine(straight.Output);
            Assert.Equal(0, code);
        }

        var runs = dir.File("killed");
        var checkpoints = Path.Combine(runs, "dist", "checkpoints");
        using (var killed = new Ambient(["launch", "--nproc", "2", "--", "train", config, "--runs", runs]))
        {
            var clock = Stopwatch.StartNew();
            int? pid = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(90) && (pid is null || Checkpoint.Latest(checkpoints) is null))
            {
                var match = WorkerPid().Match(killed.Output);
                if (match.Success) pid = int.Parse(match.Groups[1].Value);
                Thread.Sleep(20);
            }
            Assert.True(pid is not null && Checkpoint.Latest(checkpoints) is not null, "no first checkpoint within 90 s:\n" + killed.Output);
            using (var worker = Process.GetProcessById(pid!.Value)) worker.Kill(); // SIGKILL
            var killedAt = Stopwatch.StartNew();
            var code = killed.Wait(TimeSpan.FromSeconds(60));
            output.WriteLine(killed.Output);
            Assert.Equal(137, code);
            Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(40), $"the job took {killedAt.Elapsed.TotalSeconds:0.#} s to stop");
            Assert.Contains($"rank 1 (process {pid}) exited with code 137 (killed by signal 9)", killed.Flat);
            Assert.Contains("all_reduce on rank 0 of 2 failed after", killed.Flat);
        }
        var last = Checkpoint.Latest(checkpoints)!;
        using (var file = Checkpoint.Open(last))
        {
            Assert.Equal("2", file.Metadata[DataParallel.WorldSizeKey]);
            Assert.True(long.Parse(file.Metadata["step"]) < 50, "the job was killed after its last step");
        }
        using (var resumed = new Ambient(["launch", "--nproc", "2", "--", "train", config, "--runs", runs, "--resume"]))
        {
            var code = resumed.Wait(TimeSpan.FromSeconds(120));
            output.WriteLine(resumed.Output);
            Assert.Equal(0, code);
        }
        Assert.Equal(FinalWeights(straightRuns), FinalWeights(runs));
    }

    [GeneratedRegex(@"launch: rank 1 is process (\d+)")]
    private static partial Regex WorkerPid();
}
