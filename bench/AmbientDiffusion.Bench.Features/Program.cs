// Feature-extraction throughput (img/s) of a TorchScript network through TorchScriptFeatureExtractor: uint8 images of
// --size, batches of --batch, the preset's preprocessing and call, features back on the CPU. Prints one JSON line;
// bench/AmbientDiffusion.Bench.Features/pytorch_features.py times the same file in PyTorch for the ratio.
//
//   OPENBLAS_NUM_THREADS=1 dotnet bench/AmbientDiffusion.Bench.Features/bin/Release/net10.0/AmbientDiffusion.Bench.Features.dll \
//       --model FILE --kind inception --images 256 --size 64 --batch 64 --threads 2 --repeats 3
//       --model clf.safetensors --kind classifier --channels 1 --size 28 (the in-product classifier)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AmbientDiffusion.Evaluation.Features;
using AmbientDiffusion.Torch;

string? model = null;
var kind = "inception";
var images = 256;
var size = 64;
var channels = 3;
var batch = 64;
var threads = 2;
var repeats = 3;
var device = Device.CPU;
for (var i = 0; i < args.Length; i++)
{
    int Int() => int.Parse(args[++i], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--model": model = args[++i]; break;
        case "--channels": channels = Int(); break;
        case "--kind": kind = args[++i]; break;
        case "--images": images = Int(); break;
        case "--size": size = Int(); break;
        case "--batch": batch = Int(); break;
        case "--threads": threads = Int(); break;
        case "--repeats": repeats = Int(); break;
        case "--device": device = Device.Parse(args[++i]); break;
        default:
            throw new ArgumentException($"unknown option {args[i]}: expected --model FILE --kind inception|dinov2|sscd|torchscript|classifier --channels C --images N --size S --batch B --threads T --repeats R --device cpu|cuda");
    }
}
if (model is null) throw new ArgumentException("--model FILE is required (a TorchScript file, e.g. bench/results/resnet_like.pt from make_model.py)");
torch.set_num_threads(threads);
using var generator = new Generator(1);
using var data = torch.NewDisposeScope();
var pixels = torch.randint(0, 256, [images, channels, size, size], ScalarType.Byte, generator: generator);
using var extractor = FeatureExtractors.Create(FeatureSpec.Parse($"{kind}:{model}"), device, new FeatureExtractorOptions { BatchSize = batch });
var rates = new List<double>();
using (torch.NewDisposeScope())
{
    // Warm-up: the TorchScript profiling executor optimises the graph during the first calls.
    extractor.Extract(pixels.narrow(0, 0, Math.Min(batch, images)));
    extractor.Extract(pixels.narrow(0, 0, Math.Min(batch, images)));
}
for (var r = 0; r < repeats; r++)
{
    using var scope = torch.NewDisposeScope();
    var clock = Stopwatch.StartNew();
    extractor.Extract(pixels);
    if (device.Type == DeviceType.CUDA) torch.cuda.synchronize(device.Index);
    rates.Add(images / clock.Elapsed.TotalSeconds);
}
rates.Sort();
Console.WriteLine(JsonSerializer.Serialize(new
{
    side = "csharp",
    model,
    kind,
    images,
    size,
    batch,
    threads,
    img_per_s = rates.Select(v => Math.Round(v, 1)),
    torch = torch.version,
}));
