using AmbientDiffusion.Diffusion;
// Times the data-parallel gradient exchange of one training step for the network of a config: --nproc worker
// processes (this program again, with torchrun's variables on a free loopback port) average a float32 buffer of the
// network's parameter count through DataParallel.AverageGradients, the trainer's own call (64 MB buckets, then the
// loss and stop flag). Prints rank 0's JSON.
//
//   dotnet run -c Release --project bench/AmbientDiffusion.Bench.Distributed -- \
//       --config configs/celeba64-ambient-p0.8.yaml --nproc 2 [--samples 10] [--device cpu|cuda] [--out result.json]
//
// Under torchrun (several GPUs or machines) run the built program itself as the worker: it reads RANK/WORLD_SIZE/...
// and skips the spawning.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using AmbientDiffusion.Config;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

string? config = null, output = null;
int nproc = 2, samples = 10, warmup = 2, imageChannels = 3;
var deviceText = "cpu";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config": config = args[++i]; break;
        case "--nproc": nproc = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--samples": samples = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--channels": imageChannels = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--device": deviceText = args[++i]; break;
        case "--out": output = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (config is null)
{
    Console.Error.WriteLine("--config is required (the network whose gradient is exchanged)");
    return 2;
}

if (!torch.distributed.LaunchEnvironment.IsPresent()) return Spawn(nproc);

var device = Device.Parse(deviceText);
using var parallel = DataParallel.FromEnvironment(device);
var model = ConfigLoader.Load(config).Model;
long elements;
using (var init = new Generator(0))
using (var dropout = new Generator(1))
using (var network = DenoiserFactory.Create(model, new NetworkGeometry(64, imageChannels, model.Gated ? imageChannels : 0), init, dropout))
    elements = network.parameter_count();
using var grad = torch.randn([elements], generator: new Generator((ulong)parallel.Rank)).to(parallel.Place(device)).DetachFromDisposeScope();
var times = new double[samples];
for (var i = -warmup; i < samples; i++)
{
    var clock = Stopwatch.StartNew();
    parallel.AverageGradients(grad, 1.0, false);
    if (device.Type == DeviceType.CUDA) torch.cuda.synchronize();
    if (i >= 0) times[i] = clock.Elapsed.TotalMilliseconds;
}
if (!parallel.IsPrimary) return 0;
Array.Sort(times);
var median = times[samples / 2];
var report = new JsonObject
{
    ["config"] = config,
    ["world_size"] = parallel.WorldSize,
    ["device"] = device.ToString(),
    ["elements"] = elements,
    ["megabytes"] = elements * 4 / 1e6,
    ["buckets"] = (elements + DataParallel.BucketElements - 1) / DataParallel.BucketElements,
    ["median_ms"] = median,
    ["min_ms"] = times[0],
    ["max_ms"] = times[^1],
    // Ring all-reduce moves 2 (W-1)/W of the buffer through each rank: its bus bandwidth, as nccl-tests report it.
    ["bus_gb_per_s"] = 2.0 * (parallel.WorldSize - 1) / parallel.WorldSize * elements * 4 / (median / 1e3) / 1e9,
    ["threads"] = torch.get_num_threads(),
    ["loadavg_at_end"] = File.ReadAllText("/proc/loadavg").Trim(),
};
var text = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(text);
if (output is not null) File.WriteAllText(output, text);
return 0;

// The parent: N copies of this program as workers of one job on loopback; returns the first failure's exit code.
int Spawn(int count)
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    var workers = Enumerable.Range(0, count).Select(rank =>
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = rank != 0 };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(DataParallel).Assembly.Location.Replace("AmbientDiffusion.dll", "AmbientDiffusion.Bench.Distributed.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in new torch.distributed.LaunchEnvironment(rank, count, rank, "127.0.0.1", port).ToVariables()) start.Environment[k] = v;
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AMBIENT_NUM_THREADS")))
            start.Environment["AMBIENT_NUM_THREADS"] = Math.Max(1, Environment.ProcessorCount / count).ToString(CultureInfo.InvariantCulture);
        return Process.Start(start)!;
    }).ToList();
    foreach (var w in workers) w.WaitForExit();
    return workers.Select(w => w.ExitCode).FirstOrDefault(c => c != 0);
}
