// Throughput of the memorization analyzer's exact k-NN (NearestNeighbors.Search: chunked matmul candidates, top-k
// merge, float64 re-ranking by direct differences) in GFLOP/s, counting only the 2*N*M*D of the distance matmul, beside
// (a) the same matmuls alone, at the search's chunk shapes, and (b) the machine's float32 matmul peak (n^3 square
// product), all measured in the same process.
//
//   OPENBLAS_NUM_THREADS=1 dotnet bench/AmbientDiffusion.Bench.Knn/bin/Release/net10.0/AmbientDiffusion.Bench.Knn.dll \
//       --threads 2 --queries 10000 --reference 60000 --dims 784,3072 --out results.json
//
// --data fmnist uses Fashion-MNIST's 10k test images as queries and its 60k training images as reference (D = 784,
// real near-duplicates); --data random (default) uses uniform [0, 1) pixels for every D.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AmbientDiffusion.Data;
using AmbientDiffusion.Memorization;
using AmbientDiffusion.Torch;

var threads = 2;
var queries = 10_000;
var reference = 60_000;
var dims = new List<int> { 784, 3072 };
var k = 50;
var peakSize = 2048;
var gemmQueries = 2048;
var data = "random";
var queryChunk = new KnnOptions().QueryChunk;
var referenceChunk = new KnnOptions().ReferenceChunk;
string? output = null;
var device = Device.CPU;
for (var i = 0; i < args.Length; i++)
{
    int Int() => int.Parse(args[++i], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--threads": threads = Int(); break;
        case "--queries": queries = Int(); break;
        case "--reference": reference = Int(); break;
        case "--dims": dims = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList(); break;
        case "--k": k = Int(); break;
        case "--peak": peakSize = Int(); break;
        case "--gemm-queries": gemmQueries = Int(); break;
        case "--query-chunk": queryChunk = Int(); break;
        case "--reference-chunk": referenceChunk = Int(); break;
        case "--data": data = args[++i]; break;
        case "--out": output = args[++i]; break;
        case "--device": device = Device.Parse(args[++i]); break;
        case "--profile": Profile(options: new KnnOptions(), d: Int(), k: 50); return 0;
        default:
            throw new ArgumentException($"unknown option {args[i]}: expected --threads N --queries N --reference M --dims D1,D2 --k K --peak N --gemm-queries N --query-chunk N --reference-chunk N --data random|fmnist --device cpu|cuda --profile D --out FILE");
    }
}
torch.set_num_threads(threads);
using var noGrad = torch.no_grad();
var loadStart = File.ReadAllText("/proc/loadavg").Trim();
var options = new KnnOptions { QueryChunk = queryChunk, ReferenceChunk = referenceChunk };

var results = new JsonObject { ["peak"] = Peak(peakSize, device) };
Console.Error.WriteLine($"peak {peakSize}^3: best {results["peak"]!["best_gflops"]} GFLOP/s");
var cases = new JsonArray();
foreach (var d in dims)
{
    using var scope = torch.NewDisposeScope();
    var (q, r, source) = Data(data, d, queries, reference);
    (q, r) = (q.to(device), r.to(device));
    var (n, m) = (q.size(0), r.size(0));
    var flops = 2.0 * n * m * d;

    NearestNeighbors.Search(q.narrow(0, 0, Math.Min(64, n)), r.narrow(0, 0, Math.Min(4096, m)), Math.Min(k, (int)Math.Min(4096, m)), options); // warm-up
    var clock = Stopwatch.StartNew();
    var result = NearestNeighbors.Search(q, r, k, options);
    Sync(device);
    var seconds = clock.Elapsed.TotalSeconds;

    var gemmN = Math.Min(gemmQueries, n);
    var gemmSeconds = GemmOnly(q.narrow(0, 0, gemmN), r, options, device);
    var gemmFlops = 2.0 * gemmN * m * d;
    var entry = new JsonObject
    {
        ["data"] = source,
        ["queries"] = n,
        ["reference"] = m,
        ["dimension"] = d,
        ["k"] = k,
        ["query_chunk"] = options.QueryChunk,
        ["reference_chunk"] = options.ReferenceChunk,
        ["candidate_margin"] = options.CandidateMargin,
        ["matmul_flops"] = flops,
        ["knn_seconds"] = Math.Round(seconds, 3),
        ["knn_gflops"] = Math.Round(flops / seconds / 1e9, 2),
        ["exact_fallbacks"] = result.ExactFallbacks,
        ["gemm_only_queries"] = gemmN,
        ["gemm_only_seconds"] = Math.Round(gemmSeconds, 3),
        ["gemm_only_gflops"] = Math.Round(gemmFlops / gemmSeconds / 1e9, 2),
        ["loadavg_after"] = File.ReadAllText("/proc/loadavg").Trim(),
    };
    cases.Add(entry);
    Console.Error.WriteLine($"D={d}: k-NN {seconds:F1} s = {entry["knn_gflops"]} GFLOP/s ({result.ExactFallbacks} fallbacks); matmul alone {entry["gemm_only_gflops"]} GFLOP/s");
}
results["knn"] = cases;

var report = new JsonObject
{
    ["benchmark"] = "memorization k-NN (NearestNeighbors.Search)",
    ["torch_version"] = torch.version,
    ["blas"] = torch.blas,
    ["threads"] = torch.get_num_threads(),
    ["device"] = device.ToString(),
    ["openblas_num_threads"] = Environment.GetEnvironmentVariable("OPENBLAS_NUM_THREADS") ?? "(unset)",
    ["cpu"] = CpuModel(),
    ["loadavg_at_start"] = loadStart,
    ["loadavg_at_end"] = File.ReadAllText("/proc/loadavg").Trim(),
    ["results"] = results,
};
var text = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(text);
if (output is not null) File.WriteAllText(output, text + "\n");
return 0;

// One block of the search, phase by phase (for finding where the time goes).
static void Profile(KnnOptions options, int d, int k)
{
    using var scope = torch.NewDisposeScope();
    using var generator = new Generator(7);
    var q = torch.rand([options.QueryChunk, d], generator: generator);
    var r = torch.rand([options.ReferenceChunk, d], generator: generator);
    var norms = r.square().sum(1);
    var qn = q.square().sum(1);
    void Time(string name, Func<Tensor> work)
    {
        work().Dispose();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++) using (var s = torch.NewDisposeScope()) work();
        Console.Error.WriteLine($"{name}: {clock.Elapsed.TotalMilliseconds / 3:F1} ms");
    }
    Time("matmul", () => torch.matmul(q, r.transpose(0, 1)));
    var qa = torch.cat([q, torch.ones([q.size(0), 1])], 1);
    var ra = torch.cat([r, norms.unsqueeze(1)], 1);
    Time("matmul augmented (D+1)", () => torch.matmul(qa, ra.transpose(0, 1)));
    var big = torch.cat([ra, ra, ra, ra, ra, ra, ra], 0);
    Time("matmul augmented, narrow of a 7x taller reference", () => torch.matmul(qa, big.narrow(0, 8192, r.size(0)).transpose(0, 1)));
    var e = torch.matmul(q, r.transpose(0, 1));
    Time("scale+norms", () => e.mul(-2).add_(qn.unsqueeze(1)).add_(norms.unsqueeze(0)));
    Time("centre reference chunk", () => r - r.mean(0, keepdim: true));
    Time($"topk {k + options.CandidateMargin} unsorted", () => e.topk(k + options.CandidateMargin, 1, largest: false, sorted: false).values);
    Time($"topk {k + options.CandidateMargin} sorted", () => e.topk(k + options.CandidateMargin, 1, largest: false, sorted: true).values);
    var idx = e.topk(k + options.CandidateMargin, 1, largest: false, sorted: false).indices;
    Time("rerank gather only", () => r.index_select(0, idx.reshape(-1)));
    Time("rerank gather+diff+f32 sum", () =>
    {
        var rows = (int)(options.RerankElements / ((k + options.CandidateMargin) * d));
        Tensor last = q;
        for (var s = 0; s < q.size(0); s += rows)
        {
            var len = Math.Min(rows, (int)q.size(0) - s);
            var g = r.index_select(0, idx.narrow(0, s, len).reshape(-1)).view(len, k + options.CandidateMargin, d);
            last = g.sub_(q.narrow(0, s, len).unsqueeze(1)).square_().sum(2);
        }
        return last;
    });
    Time("rerank gather+diff+f64 sum", () =>
    {
        var rows = (int)(options.RerankElements / ((k + options.CandidateMargin) * d));
        Tensor last = q;
        for (var s = 0; s < q.size(0); s += rows)
        {
            var len = Math.Min(rows, (int)q.size(0) - s);
            var g = r.index_select(0, idx.narrow(0, s, len).reshape(-1)).view(len, k + options.CandidateMargin, d);
            last = (g - q.narrow(0, s, len).unsqueeze(1)).to(ScalarType.Float64).square_().sum(2).to(ScalarType.Float32);
        }
        return last;
    });
}

static void Sync(Device device)
{
    if (device.Type == DeviceType.CUDA) torch.cuda.synchronize();
}

static JsonObject Peak(int size, Device device)
{
    using var scope = torch.NewDisposeScope();
    using var generator = new Generator(1);
    if (device.Type == DeviceType.CUDA) torch.cuda.allow_tf32(false); // full float32, as the analyzer runs
    var a = torch.rand([size, size], generator: generator).to(device);
    var b = torch.rand([size, size], generator: generator).to(device);
    torch.matmul(a, b).Dispose(); // warm-up
    Sync(device);
    var rates = new List<double>();
    for (var i = 0; i < 3; i++)
    {
        var clock = Stopwatch.StartNew();
        torch.matmul(a, b).Dispose();
        Sync(device);
        rates.Add(2.0 * size * size * size / clock.Elapsed.TotalSeconds / 1e9);
    }
    rates.Sort();
    return new JsonObject { ["size"] = size, ["best_gflops"] = Math.Round(rates[^1], 2), ["median_gflops"] = Math.Round(rates[1], 2) };
}

// The search's distance matmuls alone: the same query and reference chunks, no top-k, no re-ranking.
static double GemmOnly(Tensor q, Tensor r, KnnOptions options, Device device)
{
    var (n, m) = (q.size(0), r.size(0));
    var clock = Stopwatch.StartNew();
    for (long qs = 0; qs < n; qs += options.QueryChunk)
        for (long rs = 0; rs < m; rs += options.ReferenceChunk)
        {
            using var scope = torch.NewDisposeScope();
            torch.matmul(q.narrow(0, qs, Math.Min(options.QueryChunk, n - qs)), r.narrow(0, rs, Math.Min(options.ReferenceChunk, m - rs)).transpose(0, 1));
        }
    Sync(device);
    return clock.Elapsed.TotalSeconds;
}

static (Tensor q, Tensor r, string source) Data(string kind, int d, int n, int m)
{
    if (kind == "fmnist")
    {
        if (d != 784) throw new ArgumentException("--data fmnist has D = 784 only");
        Tensor Load(bool train, int count)
        {
            var source = IdxSource.FashionMnist(train);
            count = Math.Min(count, source.Count);
            var pixels = new byte[count * 784];
            for (var i = 0; i < count; i++) source.ReadRaw(i).CopyTo(pixels, i * 784);
            return torch.tensor(pixels, [count, 784]).to(ScalarType.Float32).div_(255);
        }
        return (Load(false, n), Load(true, m), "fashion-mnist (test -> train)");
    }
    using var generator = new Generator((ulong)d);
    return (torch.rand([n, d], generator: generator), torch.rand([m, d], generator: generator), "uniform random [0, 1)");
}

static string CpuModel()
{
    var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
    return line is null ? "?" : line[(line.IndexOf(':') + 1)..].Trim();
}
