// Training-step and data-pipeline benchmarks. The step cases mirror bench/pytorch/ambient/step_bench.py exactly
// (same network, loss, batch, optimizer, warm-up and sample counts, median/p10/p90 per step) so the two JSON files
// can be compared as ratios; the data cases time `prepare` and `corrupt` on 178x218 JPEGs generated here.
//
//   OPENBLAS_NUM_THREADS=1 dotnet bench/AmbientDiffusion.Bench.Training/bin/Release/net10.0/AmbientDiffusion.Bench.Training.dll \
//       --threads 2 --only small_ungated,small_gated,celeba64_ungated,celeba64_gated,data [--bf16] --out results.json
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;

var threads = 2;
string? only = null, output = null;
int? samplesOverride = null;
var bf16 = false;
var device = Device.CPU;
int? batchOverride = null;
double? peakTflops = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--only": only = args[++i]; break;
        case "--out": output = args[++i]; break;
        case "--samples": samplesOverride = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--bf16": bf16 = true; break;
        case "--device": device = Device.Parse(args[++i]); break;
        case "--batch": batchOverride = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--peak-tflops": peakTflops = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: throw new ArgumentException($"unknown option {args[i]}: expected --threads N, --only a,b, --samples N, --bf16, --device cpu|cuda, --batch N, --peak-tflops X, --out FILE");
    }
}
torch.set_num_threads(threads);
var cases = new (string name, bool gated, bool paper, int batch, int warmup, int samples)[]
{
    ("small_ungated", false, false, 8, 3, 50),
    ("small_gated", true, false, 8, 3, 30),
    ("celeba64_ungated", false, true, 2, 1, 5),
    ("celeba64_gated", true, true, 2, 1, 5),
};
var wanted = only?.Split(',').ToHashSet() ?? cases.Select(c => c.name).Append("data").ToHashSet();
var results = new JsonObject();
foreach (var c in cases.Where(c => wanted.Contains(c.name)))
{
    var options = c.paper
        ? new UNetOptions(64, 3, 1, 128, [1, 2, 2, 2], 4, [16], 0.1, c.gated)
        : new UNetOptions(32, 1, 1, 32, [1, 2, 2], 1, [16], 0.1, c.gated);
    results[c.name] = StepBench.Run(options, batchOverride ?? c.batch, c.warmup, samplesOverride ?? c.samples, bf16, device, peakTflops);
    Console.Error.WriteLine($"{c.name}: median {results[c.name]!["median_us"]!.GetValue<double>() / 1e3:F1} ms");
}
if (wanted.Contains("data")) results["data"] = DataBench.Run(count: 512);

var report = new JsonObject
{
    ["framework"] = "AmbientDiffusion (C#)",
    ["torch_version"] = torch.version,
    ["threads"] = torch.get_num_threads(),
    ["blas"] = torch.blas,
    ["loadavg_at_end"] = File.ReadAllText("/proc/loadavg").Trim(),
    ["step"] = "ambient loss fwd + bwd + clip_grad_norm_(1.0) + Adam(2e-4) + zero_grad",
    ["bf16_autocast"] = bf16,
    ["device"] = device.ToString(),
    ["benchmarks"] = results,
};
var text = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(text);
if (output is not null) File.WriteAllText(output, text);
return 0;

/// <summary>One ambient training step of the DDPM++ U-Net, as step_bench.py: fixed y and A (keep 0.5), σ, B and noise
/// drawn each step from one generator, Adam 2e-4 on flat buffers, gradient clipping at 1, dropout active; with --bf16 the
/// forward pass and the loss run under CPU bf16 autocast, as step_bench.py --bf16.</summary>
internal static class StepBench
{
    public static JsonObject Run(UNetOptions options, int batch, int warmup, int samples, bool bf16, Device device, double? peakTflops)
    {
        using var init = new Generator(0);
        using var dropout = new Generator(2);
        // Uniform preconditioning, as the PyTorch reference step (bench/pytorch/ambient) computes it.
        using var model = new EdmPreconditioner(new DdpmUNet(options, init, dropout), perPixelHidden: false);
        model.to(device);
        if (device.Type == DeviceType.CUDA) torch.cuda.allow_tf32(true); // the trainer's default (device.tf32)
        using var flat = new torch.optim.FlatParameters(model.parameters());
        using var adam = new torch.optim.Adam(flat, 2e-4);
        var stepIndex = 0UL;
        var r = options.Resolution;
        using var data = new Generator(3);
        var masks = (torch.rand([batch, options.MaskChannels, r, r], generator: data) < 0.5).to(ScalarType.Float32, device).DetachFromDisposeScope();
        var y = ((torch.rand([batch, options.ImageChannels, r, r], generator: data) * 2 - 1).to(device) * masks).DetachFromDisposeScope();
        var sigmaN = torch.zeros([batch], device: device).DetachFromDisposeScope();
        var loss = new AmbientLoss(new NoiseLevelDistribution(), new FurtherCorruption(0.1), 0);
        var corrupted = new CorruptedBatch(y, masks, sigmaN, Enumerable.Range(0, batch).ToArray());
        double Step(FlopCounterMode? counter = null)
        {
            using var scope = torch.NewDisposeScope();
            // One generator per example, made every step, as the trainer does.
            using var draws = new StackedGenerator(Enumerable.Range(0, batch).Select(i => (stepIndex << 20) + (ulong)i));
            stepIndex++;
            Tensor value;
            using (bf16 ? torch.autocast(device.Type) : (IDisposable?)null)
                value = DiffusionLoss.Reduce(loss.Compute(model, corrupted, draws), LossReduction.Sum);
            counter?.Dispose(); // the forward pass only: the backward runs inside libtorch
            value.backward();
            flat.clip_grad_norm_(1.0);
            adam.step();
            flat.zero_grad();
            return value.item<double>();
        }
        // FLOPs of one forward pass (convolutions and matrix products), counted on the first warm-up step.
        var forwardFlops = 0L;
        for (var i = 0; i < Math.Max(1, warmup); i++)
        {
            var counter = i == 0 ? new FlopCounterMode() : null;
            Step(counter);
            if (counter is not null) forwardFlops = counter.get_total_flops();
        }
        var times = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            times[i] = clock.Elapsed.TotalMicroseconds;
        }
        y.Dispose();
        masks.Dispose();
        sigmaN.Dispose();
        var result = Stats.Summarise(times);
        result["batch"] = batch;
        result["param_count"] = model.parameter_count();
        // Model FLOPs of a step: 3x the forward count (backward = 2x forward), the usual MFU convention.
        var stepSeconds = result["median_us"]!.GetValue<double>() / 1e6;
        result["forward_gflop_per_image"] = forwardFlops / (double)batch / 1e9;
        result["images_per_second"] = batch / stepSeconds;
        result["model_tflops_per_second"] = 3.0 * forwardFlops / stepSeconds / 1e12;
        if (peakTflops is { } peak)
        {
            result["peak_tflops"] = peak;
            result["mfu"] = 3.0 * forwardFlops / stepSeconds / 1e12 / peak;
        }
        return result;
    }
}

/// <summary>Images per second of `prepare` (CelebA-style 178x218 JPEGs → centre crop 140 → 64x64 RGB) and of `corrupt`
/// (pixel mask p = 0.6) on generated images.</summary>
internal static class DataBench
{
    public static JsonObject Run(int count)
    {
        var root = Directory.CreateTempSubdirectory("ambient-data-bench-").FullName;
        try
        {
            var folder = Path.Combine(root, "img_align_celeba");
            Directory.CreateDirectory(folder);
            var random = new Random(1);
            for (var i = 0; i < count; i++)
            {
                // Smooth content (a few random gradients), so the JPEGs compress like photos rather than noise.
                var pixels = new byte[218 * 178 * 3];
                var (a, b, c) = (random.NextDouble(), random.NextDouble(), random.NextDouble());
                for (var yy = 0; yy < 218; yy++)
                    for (var xx = 0; xx < 178; xx++)
                        for (var ch = 0; ch < 3; ch++)
                            pixels[(yy * 178 + xx) * 3 + ch] = (byte)(127 + 120 * Math.Sin(a * xx / 9.0 + b * yy / 13.0 + c * ch + ((xx ^ yy) & 7) / 8.0));
                using var scope = torch.NewDisposeScope();
                File.WriteAllBytes(Path.Combine(folder, $"{i + 1:000000}.jpg"), ImageCodec.EncodeJpeg(torch.tensor(pixels, [218, 178, 3]), 90));
            }
            var prepared = Path.Combine(root, "prepared.safetensors");
            var clock = Stopwatch.StartNew();
            DatasetPreparer.Run(new ImageFolderSource(folder), prepared, new PrepareOptions(64, 3, Crop: 140));
            var prepareSeconds = clock.Elapsed.TotalSeconds;
            using var source = PreparedDataset.Open(prepared);
            clock.Restart();
            DatasetCorruptor.Run(source, new PixelMask(0.6), 0, Path.Combine(root, "corrupted.safetensors"));
            var corruptSeconds = clock.Elapsed.TotalSeconds;
            return new JsonObject
            {
                ["images"] = count,
                ["prepare_images_per_second"] = count / prepareSeconds,
                ["corrupt_images_per_second"] = count / corruptSeconds,
                ["prepare"] = "178x218 JPEG (quality 90) -> centre crop 140 -> area resize 64x64 RGB",
                ["corrupt"] = "pixel mask p = 0.6, 64x64 RGB, uint8 artifact",
            };
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

internal static class Stats
{
    /// <summary>median, p10, p90 with numpy's linear interpolation, as the PyTorch side reports them.</summary>
    public static JsonObject Summarise(double[] microseconds)
    {
        var sorted = microseconds.Order().ToArray();
        double Percentile(double q)
        {
            var position = q * (sorted.Length - 1);
            var low = (int)Math.Floor(position);
            var high = Math.Min(sorted.Length - 1, low + 1);
            return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
        }
        return new JsonObject
        {
            ["median_us"] = Percentile(0.5),
            ["p10_us"] = Percentile(0.1),
            ["p90_us"] = Percentile(0.9),
            ["min_us"] = sorted[0],
            ["iterations"] = sorted.Length,
        };
    }
}
