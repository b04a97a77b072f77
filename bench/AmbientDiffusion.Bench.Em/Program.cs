// EM's E-step on a trained checkpoint: posterior samples per second with the sampler's float64 state and with a
// float32 state, on the same observations and seeds, and the difference between the two sets of samples.
//
//   dotnet bench/AmbientDiffusion.Bench.Em/bin/Release/net10.0/AmbientDiffusion.Bench.Em.dll \
//       <checkpoint.safetensors> <corrupted.safetensors> [observations=64] [steps=8] [cg=1] [repeats=2]
//
// Prints one line per state and repeat (seconds, samples/s) and the differences (mean and max |x64 - x32| in [-1, 1]
// units before rounding, and the fraction of uint8 pixels that differ after it). States alternate every repeat.
using System.Diagnostics;
using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Em;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Torch;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: AmbientDiffusion.Bench.Em <checkpoint> <corrupted> [observations=64] [steps=8] [cg=1] [repeats=2]");
    return 1;
}
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
var (checkpoint, corrupted) = (args[0], args[1]);
var (count, steps, cg, repeats) = (Arg(2, 64), Arg(3, 8), Arg(4, 1), Arg(5, 2));
var options = new ReconstructionOptions { Steps = steps, CgIterations = cg, BatchSize = count };

using var scope = torch.NewDisposeScope();
using var data = CorruptedDataset.Open(corrupted);
var (c, h, w) = (data.Channels, data.Height, data.Width);
var y = new double[count * c * h * w];
var m = new double[count * h * w];
var (observation, mask) = (new float[c * h * w], new float[data.MaskChannels * h * w]);
for (var i = 0; i < count; i++)
{
    data.ReadSample(i, observation, mask);
    for (var k = 0; k < observation.Length; k++) y[i * observation.Length + k] = observation[k];
    for (var k = 0; k < h * w; k++) m[i * h * w + k] = mask[k];
}
var yTensor = torch.tensor(y, [count, c, h, w]);
var masks = torch.tensor(m, [count, 1, h, w]);
var sigmas = Enumerable.Range(0, count).Select(i => (double)data.NoiseSigma(i)).ToList();
var seeds = Enumerable.Range(0, count).Select(i => EStep.SampleSeed(0, 1, i, 0)).ToList();
Console.WriteLine($"checkpoint {checkpoint}; {count} observations of {c}x{h}x{w}; MMPS {steps} steps, {cg} CG iteration(s); threads {torch.get_num_threads()}");

var samples = new Dictionary<ScalarType, Tensor>();
for (var r = 0; r < repeats; r++)
    foreach (var state in r % 2 == 0 ? new[] { ScalarType.Float64, ScalarType.Float32 } : new[] { ScalarType.Float32, ScalarType.Float64 })
    {
        using var posterior = new DiffusionPosterior(CheckpointPrior.Load(checkpoint, Device.CPU), options, state);
        var watch = Stopwatch.StartNew();
        var x = posterior.Sample(yTensor, masks, sigmas, seeds);
        var seconds = watch.Elapsed.TotalSeconds;
        samples[state] = scope.MoveToOuter(x);
        Console.WriteLine(FormattableString.Invariant($"{(state == ScalarType.Float64 ? "float64" : "float32")}  repeat {r}: {seconds:F2} s, {count / seconds:F2} samples/s"));
    }
var difference = (samples[ScalarType.Float64] - samples[ScalarType.Float32]).abs();
var bytes64 = ((samples[ScalarType.Float64] + 1) * 127.5).round();
var bytes32 = ((samples[ScalarType.Float32] + 1) * 127.5).round();
var differing = bytes64.ne(bytes32).to(ScalarType.Float64).mean().item<double>();
Console.WriteLine(FormattableString.Invariant($"|x64 - x32|: mean {difference.mean().item<double>():E2}, max {difference.max().item<double>():E2} ([-1, 1] units); uint8 pixels that differ: {differing:P3}"));
return 0;
