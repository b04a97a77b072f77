using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using static AmbientDiffusion.Torch.torch.distributed;

namespace AmbientDiffusion.Torch.Tests;

/// <summary>The c10d binding over Gloo on loopback: ranks run as threads of this process (each with its own group).</summary>
public sealed class DistributedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static T[] OnRanks<T>(int worldSize, Func<ProcessGroup, T> body)
    {
        var port = FreePort();
        var results = new T[worldSize];
        var errors = new Exception?[worldSize];
        var threads = Enumerable.Range(0, worldSize).Select(rank => new Thread(() =>
        {
            try
            {
                using var group = ProcessGroup.Init("127.0.0.1", port, rank, worldSize, Backend.Gloo, Timeout);
                results[rank] = body(group);
            }
            catch (Exception e)
            {
                errors[rank] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a rank did not finish within 60 s");
        foreach (var e in errors) if (e is not null) throw e;
        return results;
    }

    [Fact]
    public void Gloo_is_built_in()
    {
        Assert.True(is_available(Backend.Gloo));
    }

    [Fact]
    public void Two_ranks_sum_average_broadcast_and_meet_at_barriers()
    {
        var results = OnRanks(2, group =>
        {
            using var scope = torch.NewDisposeScope();
            var sum = torch.tensor(new float[] { group.Rank + 1, 10 * (group.Rank + 1), -3 }, [3]);
            group.all_reduce(sum);
            var average = torch.tensor(new float[] { group.Rank + 1, 4 }, [2]);
            group.all_reduce(average, torch.distributed.ReduceOp.Avg);
            group.barrier();
            var broadcast = torch.tensor(new float[] { group.Rank * 7 + 1, group.Rank }, [2]);
            group.broadcast(broadcast, src: 1);
            group.barrier();
            return (sum: sum.data<float>().ToArray(), average: average.data<float>().ToArray(), broadcast: broadcast.data<float>().ToArray());
        });
        foreach (var r in results)
        {
            Assert.Equal(new float[] { 3, 30, -6 }, r.sum);
            Assert.Equal(new float[] { 1.5f, 4 }, r.average);
            Assert.Equal(new float[] { 8, 1 }, r.broadcast);
        }
    }

    [Fact]
    public void A_missing_rank_fails_the_rendezvous_within_the_timeout_naming_the_rank()
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<TorchException>(() => ProcessGroup.Init("127.0.0.1", FreePort(), 0, 2, Backend.Gloo, TimeSpan.FromSeconds(2)));
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.5, 15);
        Assert.Contains("init (rendezvous at 127.0.0.1:", error.Message);
        Assert.Contains("on rank 0 of 2 failed after", error.Message);
    }

    [Fact]
    public void A_port_nobody_serves_fails_a_worker_within_the_timeout()
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<TorchException>(() => ProcessGroup.Init("127.0.0.1", FreePort(), 1, 2, Backend.Gloo, TimeSpan.FromSeconds(2)));
        Assert.True(clock.Elapsed.TotalSeconds < 15, error.Message);
        Assert.Contains("on rank 1 of 2 failed after", error.Message);
        Assert.Contains("trying to connect to (127.0.0.1", error.Message);
    }

    [Fact]
    public void A_collective_that_a_peer_never_joins_fails_within_the_timeout()
    {
        var port = FreePort();
        var timeout = TimeSpan.FromSeconds(3);
        using var peerLeft = new ManualResetEventSlim();
        var peer = new Thread(() =>
        {
            using var group = ProcessGroup.Init("127.0.0.1", port, 1, 2, Backend.Gloo, timeout);
            peerLeft.Wait(TimeSpan.FromSeconds(30));
        });
        peer.Start();
        try
        {
            using var group = ProcessGroup.Init("127.0.0.1", port, 0, 2, Backend.Gloo, timeout);
            using var scope = torch.NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var error = Assert.Throws<TorchException>(() => group.all_reduce(torch.ones([4])));
            Assert.InRange(clock.Elapsed.TotalSeconds, 2, 20);
            Assert.Contains("all_reduce on rank 0 of 2 failed after", error.Message);
        }
        finally
        {
            peerLeft.Set();
            peer.Join(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Launch_variables_are_read_and_checked_with_messages_naming_them()
    {
        var good = new Dictionary<string, string> { ["RANK"] = "1", ["WORLD_SIZE"] = "4", ["MASTER_ADDR"] = "node0", ["MASTER_PORT"] = "29400" };
        Assert.Equal(new LaunchEnvironment(1, 4, 1, "node0", 29400), LaunchEnvironment.Read(good.GetValueOrDefault));
        Assert.True(LaunchEnvironment.Read(new Dictionary<string, string>(good) { ["TORCHELASTIC_USE_AGENT_STORE"] = "True" }.GetValueOrDefault).LauncherServesStore);
        Assert.Equal(new LaunchEnvironment(0, 1, 0, "127.0.0.1", 29500), LaunchEnvironment.Read(new Dictionary<string, string> { ["WORLD_SIZE"] = "1", ["RANK"] = "0" }.GetValueOrDefault));
        foreach (var (key, value, expected) in new[]
                 {
                     ("RANK", (string?)null, "RANK is not set"),
                     ("RANK", "4", "RANK='4' is invalid: expected an integer in 0..3"),
                     ("WORLD_SIZE", "zero", "WORLD_SIZE='zero' is invalid"),
                     ("MASTER_ADDR", null, "MASTER_ADDR is not set"),
                     ("MASTER_PORT", "70000", "MASTER_PORT='70000' is invalid: expected an integer in 1..65535"),
                     ("LOCAL_RANK", "-1", "LOCAL_RANK='-1' is invalid"),
                 })
        {
            var variables = new Dictionary<string, string>(good);
            if (value is null) variables.Remove(key); else variables[key] = value;
            var error = Assert.Throws<ArgumentException>(() => LaunchEnvironment.Read(variables.GetValueOrDefault));
            Assert.Contains(expected, error.Message);
        }
    }
}
