// C# side of the side-by-side CPU benchmark. Mirrors bench/pytorch/reference_bench.py: same cases, shapes, warm-up,
// sample and inner counts, per-iteration statistics (median / p10 / p90 with numpy's linear percentiles) and JSON
// fields. Timing is a plain Stopwatch loop, as the reference's time.perf_counter() loop.
//
//   OPENBLAS_NUM_THREADS=1 dotnet bench/AmbientDiffusion.Bench/bin/Release/net10.0/AmbientDiffusion.Bench.dll --threads 2
//
// Options: --threads N (default 2), --out FILE, --only add_small,conv_small,train_step_small_unet, --scale F,
// --profile [--profile-samples N] (also time forward / backward / optimizer separately), --print-params (SMALL_UNET.md table, then exit),
// --forward-scope (train step variant: forward in a nested scope, only the loss moved out; see Harness.Loss).
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AmbientDiffusion.Bench;
using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch;

var options = Options.Parse(args);
if (options.Help)
{
    Console.WriteLine("usage: AmbientDiffusion.Bench [--threads N] [--out FILE] [--only a,b] [--scale F] [--profile [--profile-samples N]] [--forward-scope] [--print-params]");
    return 0;
}

torch.set_num_threads(options.Threads);

if (options.PrintParams)
{
    manual_seed(0);
    using var model = new SmallUNet();
    PrintParameters(model);
    return 0;
}

var results = new JsonObject();
JsonObject? profile = null;

// 1. add_small ---------------------------------------------------------------------------------------------
if (options.Want("add_small"))
{
    manual_seed(0);
    using var a = randn([64]);
    using var b = randn([64]);
    using var noGrad = no_grad();
    // The result is freed every iteration, as Python frees it when its last reference goes.
    results["add_small"] = Harness.Bench(() => (a + b).Dispose(), warmup: 20000, samples: options.Samples(200), inner: 1000);
}

// 2. conv_small --------------------------------------------------------------------------------------------
if (options.Want("conv_small"))
{
    manual_seed(0);
    using var x = randn([1, 8, 16, 16]);
    using var w = randn([8, 8, 3, 3]);
    using var bb = randn([8]);
    using var noGrad = no_grad();
    results["conv_small"] = Harness.Bench(() => nn.functional.conv2d(x, w, bb, padding: 1).Dispose(),
                                          warmup: 2000, samples: options.Samples(200), inner: 100);
}

// 3. train_step_small_unet ---------------------------------------------------------------------------------
if (options.Want("train_step_small_unet"))
{
    manual_seed(0);
    using var model = new SmallUNet();
    using var x = randn([16, 1, 32, 32]);
    using var target = randn([16, 1, 32, 32]);
    var paramCount = model.parameter_count();
    var tensorCount = model.parameters().Count();
    Console.Error.WriteLine($"SmallUNet: {paramCount:N0} parameters in {tensorCount} tensors");
    if (paramCount != 251_233 || tensorCount != 50)
        throw new InvalidOperationException($"SmallUNet has {paramCount} parameters in {tensorCount} tensors, the reference 251233 in 50");
    using var flat = new optim.FlatParameters(model.parameters());
    using var opt = new optim.Adam(flat, lr: 1e-3);

    void Step()
    {
        using var scope = NewDisposeScope();
        var loss = Harness.Loss(model, x, target, options.ForwardScope);
        loss.backward();
        opt.step();
        opt.zero_grad();
    }

    float firstLoss;
    using (var scope = NewDisposeScope())   // first step: also a warm-up; reads the loss like the reference
    {
        var loss = Harness.Loss(model, x, target, options.ForwardScope);
        loss.backward();
        opt.step();
        opt.zero_grad();
        firstLoss = loss.item<float>();
    }
    var r = Harness.Bench(Step, warmup: 5, samples: options.Samples(100), inner: 1);
    r["param_count"] = paramCount;
    r["first_loss"] = firstLoss;
    r["forward_scope"] = options.ForwardScope;
    results["train_step_small_unet"] = r;

    if (options.Profile) profile = Harness.ProfileTrainStep(model, x, target, opt, options.ProfileSamples, options.ForwardScope);
}

var report = new JsonObject
{
    ["framework"] = "csharp",
    ["torch_version"] = torch.version,
    ["dotnet"] = RuntimeInformation.FrameworkDescription,
    ["threads"] = torch.get_num_threads(),
    ["interop_threads"] = null,
    ["cpu_count"] = Environment.ProcessorCount,
    ["blas"] = Harness.BlasInfo(),
    ["loadavg_at_end"] = Harness.LoadAverage(),
    ["benchmarks"] = results,
};
if (profile is not null) report["profile_train_step"] = profile;
var text = report.ToJsonString(Harness.Indented);
Console.WriteLine(text);
if (options.Out is { } path) File.WriteAllText(path, text + "\n");
return 0;

static void PrintParameters(nn.Module model)
{
    long total = 0;
    foreach (var (name, p) in model.named_parameters())
    {
        var shape = p.shape;
        var n = p.numel();
        total += n;
        var text = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        Console.WriteLine($"{name,-20}{text,-18}{n}");
    }
    Console.WriteLine($"{"total",-38}{total}");
}

internal static class Harness
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>mse_loss(model(x), target) in the current scope. With <paramref name="forwardScope"/> the forward runs
    /// in a nested scope and only the loss is moved out, so the activations' handles are freed before backward and
    /// autograd releases each saved tensor as soon as backward is done with it, as in PyTorch (where the
    /// intermediates die with their last Python reference). Without it (the plain idiom) every intermediate stays
    /// alive until the step's scope ends.</summary>
    internal static Tensor Loss(SmallUNet model, Tensor x, Tensor target, bool forwardScope)
    {
        if (!forwardScope) return nn.functional.mse_loss(model.forward(x), target);
        using var forward = NewDisposeScope();
        return forward.MoveToOuter(nn.functional.mse_loss(model.forward(x), target));
    }

    /// <summary>reference_bench.py's bench(): warm-up, then <paramref name="samples"/> timed runs of
    /// <paramref name="inner"/> iterations; statistics over the per-iteration time of each sample, in µs.</summary>
    internal static JsonObject Bench(Action fn, int warmup, int samples, int inner)
    {
        for (var i = 0; i < warmup; i++) fn();
        var us = new double[samples];
        for (var s = 0; s < samples; s++)
        {
            var t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < inner; i++) fn();
            var t1 = Stopwatch.GetTimestamp();
            us[s] = (t1 - t0) * 1e6 / Stopwatch.Frequency / inner;
        }
        return new JsonObject
        {
            ["median_us"] = Percentile(us, 50),
            ["p10_us"] = Percentile(us, 10),
            ["p90_us"] = Percentile(us, 90),
            ["min_us"] = us.Min(),
            ["mean_us"] = us.Average(),
            ["iterations"] = (long)samples * inner,
            ["samples"] = samples,
            ["inner"] = inner,
            ["warmup"] = warmup,
        };
    }

    /// <summary>numpy.percentile with its default linear interpolation.</summary>
    internal static double Percentile(double[] values, double q)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var index = q / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(index);
        var hi = (int)Math.Ceiling(index);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (index - lo);
    }

    /// <summary>Times forward+loss, backward and optimizer step+zero_grad of each step separately (the same split as
    /// bench/pytorch/profile_phases.py) and counts the tensor handles the step creates (one native call each).</summary>
    internal static JsonObject ProfileTrainStep(SmallUNet model, Tensor x, Tensor target, optim.Adam opt, int samples, bool forwardScope)
    {
        var (fwd, bwd, optStep, total) = (new double[samples], new double[samples], new double[samples], new double[samples]);
        var handlesForward = 0;
        var handlesTotal = 0;
        var before = live_tensors;
        var faults0 = MinorFaults();
        var process = Process.GetCurrentProcess();
        var (user0, sys0) = (process.UserProcessorTime, process.PrivilegedProcessorTime);
        for (var s = 0; s < samples; s++)
        {
            using var scope = NewDisposeScope();
            var t0 = Stopwatch.GetTimestamp();
            var loss = Loss(model, x, target, forwardScope);
            var t1 = Stopwatch.GetTimestamp();
            handlesForward = scope.Count;
            loss.backward();
            var t2 = Stopwatch.GetTimestamp();
            opt.step();
            opt.zero_grad();
            var t3 = Stopwatch.GetTimestamp();
            handlesTotal = scope.Count;
            var ms = 1e3 / Stopwatch.Frequency;
            (fwd[s], bwd[s], optStep[s], total[s]) = ((t1 - t0) * ms, (t2 - t1) * ms, (t3 - t2) * ms, (t3 - t0) * ms);
        }
        var faultsPerStep = (MinorFaults() - faults0) / (double)samples;
        process.Refresh();
        var userPerStep = (process.UserProcessorTime - user0).TotalMilliseconds / samples;
        var sysPerStep = (process.PrivilegedProcessorTime - sys0).TotalMilliseconds / samples;
        if (live_tensors != before) throw new InvalidOperationException($"the step leaked {live_tensors - before} tensors");
        return new JsonObject
        {
            ["samples"] = samples,
            ["forward_loss_ms"] = Percentile(fwd, 50),
            ["backward_ms"] = Percentile(bwd, 50),
            ["optimizer_ms"] = Percentile(optStep, 50),
            ["total_ms"] = Percentile(total, 50),
            ["tensor_handles_forward"] = handlesForward,
            ["tensor_handles_step"] = handlesTotal,
            ["minor_page_faults_per_step"] = faultsPerStep,
            ["cpu_user_ms_per_step"] = userPerStep,
            ["cpu_sys_ms_per_step"] = sysPerStep,
        };
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat).</summary>
    internal static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);   // fields[0] is field 3 (state)
    }

    internal static JsonObject BlasInfo()
    {
        using (NewDisposeScope()) matmul(randn([64, 64]), randn([64, 64]));   // as the reference: BLAS loaded
        var libs = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var path = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
                if (Regex.IsMatch(Path.GetFileName(path), "blas|lapack|mkl|dnnl|gomp|omp")) libs.Add(path);
            }
        }
        catch (IOException)
        {
        }
        var loaded = new JsonArray();
        foreach (var lib in libs) loaded.Add(lib);
        return new JsonObject
        {
            ["binding_blas"] = torch.blas,
            ["loaded_libs"] = loaded,
            ["OPENBLAS_NUM_THREADS"] = Environment.GetEnvironmentVariable("OPENBLAS_NUM_THREADS"),
            ["OMP_NUM_THREADS"] = Environment.GetEnvironmentVariable("OMP_NUM_THREADS"),
        };
    }

    internal static JsonArray LoadAverage()
    {
        var result = new JsonArray();
        try
        {
            foreach (var field in File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
                result.Add(double.Parse(field, CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
        }
        return result;
    }
}

internal sealed class Options
{
    public int Threads { get; private set; } = 2;
    public string? Out { get; private set; }
    public HashSet<string>? Only { get; private set; }
    public double Scale { get; private set; } = 1.0;
    public bool Profile { get; private set; }
    public int ProfileSamples { get; private set; } = 40;
    public bool ForwardScope { get; private set; }
    public bool PrintParams { get; private set; }
    public bool Help { get; private set; }

    public bool Want(string name) => Only is null || Only.Contains(name);

    /// <summary>The reference's ns(): max(5, round(n * scale)) (Python rounds half to even, as Math.Round).</summary>
    public int Samples(int n) => Math.Max(5, (int)Math.Round(n * Scale));

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--threads": o.Threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--out": o.Out = Value(); break;
                case "--only": o.Only = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal); break;
                case "--scale": o.Scale = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--profile": o.Profile = true; break;
                case "--profile-samples": o.ProfileSamples = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--print-params": o.PrintParams = true; break;
                case "--forward-scope": o.ForwardScope = true; break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}' (see --help)");
            }
        }
        if (o.Threads < 1) throw new ArgumentException("--threads must be at least 1");
        return o;
    }
}
