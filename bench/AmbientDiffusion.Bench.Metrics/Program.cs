using AmbientDiffusion.Memorization;
// Time of the sample-quality metrics on random features: FD (float64 moments and eigh square roots), KID (100 subsets
// of 1000, float64) and precision/recall/density/coverage (exact k-NN radii, all-pairs float64 membership), for
// N samples against M reference rows of D features, as `ambient evaluate` runs them once per pair.
//
//   OPENBLAS_NUM_THREADS=1 dotnet bench/AmbientDiffusion.Bench.Metrics/bin/Release/net10.0/AmbientDiffusion.Bench.Metrics.dll \
//       --threads 2 --samples 10000 --reference 10000 --dims 2048 --out results.json
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Torch;

var threads = 2;
var samples = 10_000;
var reference = 10_000;
var dims = 2048;
var kidSubsets = KernelInceptionDistance.DefaultSubsets;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    int Int() => int.Parse(args[++i], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--threads": threads = Int(); break;
        case "--samples": samples = Int(); break;
        case "--reference": reference = Int(); break;
        case "--dims": dims = Int(); break;
        case "--kid-subsets": kidSubsets = Int(); break;
        case "--out": output = args[++i]; break;
        default: throw new ArgumentException($"unknown option {args[i]}: expected --threads N --samples N --reference M --dims D --kid-subsets S --out FILE");
    }
}
torch.set_num_threads(threads);
using var noGrad = torch.no_grad();
using var scope = torch.NewDisposeScope();
var loadStart = File.ReadAllText("/proc/loadavg").Trim();
using var generator = new Generator(1);
// Features shaped like Inception pool features: non-negative, correlated, with a small shift between the sets.
var mixing = torch.randn([dims, dims], generator: generator) / Math.Sqrt(dims);
var real = torch.matmul(torch.randn([reference, dims], generator: generator), mixing).relu();
var fake = torch.matmul(torch.randn([samples, dims], generator: generator), mixing).add(0.05).relu();

(double seconds, T value) Time<T>(Func<T> work)
{
    var clock = Stopwatch.StartNew();
    var value = work();
    return (clock.Elapsed.TotalSeconds, value);
}
var (fdSeconds, fd) = Time(() => FrechetDistance.Compute(fake, real));
Console.Error.WriteLine($"FD {fd:G6}: {fdSeconds:F1} s");
var (kidSeconds, kid) = Time(() => KernelInceptionDistance.Compute(fake, real, seed: 0, subsets: kidSubsets));
Console.Error.WriteLine($"KID {kid.Mean:G6} ± {kid.Std:G3} ({kid.Subsets} x {kid.SubsetSize}): {kidSeconds:F1} s");
var (prdcSeconds, prdc) = Time(() => PrecisionRecallDensityCoverage.Compute(real, fake));
Console.Error.WriteLine($"PRDC {prdc}: {prdcSeconds:F1} s");

var result = new JsonObject
{
    ["samples"] = samples, ["reference"] = reference, ["dims"] = dims, ["threads"] = threads, ["kid_subsets"] = kid.Subsets, ["kid_subset_size"] = kid.SubsetSize,
    ["fd_seconds"] = fdSeconds, ["kid_seconds"] = kidSeconds, ["prdc_seconds"] = prdcSeconds, ["total_seconds"] = fdSeconds + kidSeconds + prdcSeconds,
    ["fd"] = fd, ["kid"] = kid.Mean, ["precision"] = prdc.Precision, ["recall"] = prdc.Recall, ["density"] = prdc.Density, ["coverage"] = prdc.Coverage,
    ["loadavg_start"] = loadStart, ["loadavg_end"] = File.ReadAllText("/proc/loadavg").Trim(), ["libtorch"] = torch.version,
};
var text = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(text);
if (output is not null) File.WriteAllText(output, text + "\n");
return 0;
