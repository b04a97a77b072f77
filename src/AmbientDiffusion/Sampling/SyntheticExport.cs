using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.Imaging;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Sampling;

/// <summary>What <see cref="SyntheticExport"/> draws.</summary>
/// <param name="PerClass">Starting noises (base seeds) per class; each gives <paramref name="Views"/> images.</param>
/// <param name="FirstSeed">The first base seed; base seeds run on from it, seed s drawn for class s mod label_dim.</param>
/// <param name="Views">Images per base seed (GenRep's views); above 1 they start from nearby noises (<see cref="SampleViews"/>).</param>
/// <param name="ViewScale">s of the nearby starting noises.</param>
public sealed record SyntheticOptions(int PerClass, ulong FirstSeed = 0, int Views = 1, double ViewScale = 0.2)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (PerClass is < 1 or > 1_000_000) throw new ArgumentException($"--per-class {PerClass}: expected 1 to 1000000 images per class");
        if (Views is < 1 or > 1000) throw new ArgumentException($"--views {Views}: expected 1 to 1000 views per starting noise");
        if (!(ViewScale >= 0 && ViewScale <= 100)) throw new ArgumentException($"--view-scale {ViewScale}: expected a number in [0, 100]");
    }
}

/// <summary>
/// Exports a class-conditional model's samples as a labelled synthetic dataset: an ImageFolder tree of PNGs (one
/// folder per class name, which <c>ambient prepare --source</c> reads as a labelled source), <c>synthetic.npz</c>
/// (<c>images</c> uint8 [N, H, W, C], <c>labels</c> int64 [N] and, with views, <c>groups</c> int64 [N]: the index of the
/// base seed, so images of one group share their starting noise) and <c>manifest.json</c> (<see cref="SyntheticManifest"/>).
/// Image i is a function of (checkpoint, base seed, view, class, guidance, sampler settings) alone; with one view it is
/// exactly <c>ambient sample</c>'s image for the same seed.
/// </summary>
public static class SyntheticExport
{
    /// <summary>Draws and writes the dataset into <paramref name="directory"/> and returns its manifest.</summary>
    public static SyntheticManifest Write(CheckpointSampler sampler, SyntheticOptions synthetic, SamplerOptions options, int batchSize, string directory,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancel = default)
    {
        synthetic.Validate();
        options.Validate();
        var labelDim = sampler.Model.Network.LabelDim;
        if (labelDim == 0)
            throw new ArgumentException($"{sampler.CheckpointPath}: the model is unconditional (trained without class labels); a labelled synthetic dataset needs a class-conditional model");
        if (options.Class is not null) throw new ArgumentException("a synthetic dataset holds every class: leave the class selection unset");
        // One writer per output folder: two exports into it would mix their images under one manifest.
        using var writer = DirectoryLock.Acquire(directory);
        var baseCount = checked(synthetic.PerClass * labelDim);
        var baseSeeds = Enumerable.Range(0, baseCount).Select(j => synthetic.FirstSeed + (ulong)j).ToList();
        var baseClasses = SampleClasses.For(baseSeeds, labelDim, null);
        var views = synthetic.Views;
        // Image i = base seed i / V, view i mod V.
        var seeds = Enumerable.Range(0, baseCount * views).Select(i => baseSeeds[i / views]).ToList();
        var classes = Enumerable.Range(0, seeds.Count).Select(i => baseClasses[i / views]).ToList();
        var groups = Enumerable.Range(0, seeds.Count).Select(i => (long)(i / views)).ToList();
        var viewSpec = views > 1 ? new SampleViews(Enumerable.Range(0, seeds.Count).Select(i => i % views).ToList(), synthetic.ViewScale) : null;

        using var scope = torch.NewDisposeScope();
        var samples = sampler.Sample(seeds, classes, viewSpec, options, batchSize, progress, cancel);
        var folders = ClassFolders(sampler.Header.ClassNames, labelDim);
        Directory.CreateDirectory(directory);
        var (n, c, h, w) = ((int)samples.shape[0], (int)samples.shape[1], (int)samples.shape[2], (int)samples.shape[3]);
        var hwc = samples.permute(0, 2, 3, 1).contiguous();
        var bytes = hwc.data<byte>();
        var imageBytes = h * w * c;
        foreach (var (_, folder) in folders) Directory.CreateDirectory(Path.Combine(directory, folder));
        for (var i = 0; i < n; i++)
        {
            cancel.ThrowIfCancellationRequested();
            using var image = torch.tensor(bytes.AsSpan(i * imageBytes, imageBytes).ToArray(), [h, w, c]);
            var name = seeds[i].ToString("D6", CultureInfo.InvariantCulture) + (views > 1 ? $"_v{i % views}" : "") + ".png";
            ImageCodec.SavePng(Path.Combine(directory, folders[(int)classes[i]].Folder, name), image);
        }

        var arrays = new List<NpzWriter.Array>
        {
            new("images", "|u1", [n, h, w, c], bytes),
            NpzWriter.Int64("labels", classes),
        };
        if (views > 1) arrays.Add(NpzWriter.Int64("groups", groups));
        AtomicFile.Write(Path.Combine(directory, SyntheticManifest.NumpyFile), stream => NpzWriter.Write(stream, arrays));

        var description = sampler.Describe(options);
        var manifest = new SyntheticManifest
        {
            Checkpoint = Path.GetFullPath(sampler.CheckpointPath),
            CheckpointSha256 = FileSha256(sampler.CheckpointPath),
            RunName = sampler.RunName,
            Weights = sampler.UsesEma ? "ema" : "raw",
            Sampler = sampler.Mode.Describe(),
            SamplerOptions = JsonDocument.Parse(description["sampler_options"]).RootElement.Clone(),
            Guidance = options.Guidance,
            Steps = options.Steps,
            FirstSeed = synthetic.FirstSeed,
            Seeds = $"{synthetic.FirstSeed}-{baseSeeds[^1]}",
            BaseSamples = baseCount,
            PerClass = synthetic.PerClass,
            Views = views,
            ViewScale = views > 1 ? synthetic.ViewScale : 0,
            Count = n,
            ImageShape = [h, w, c],
            Classes = folders.Select((f, k) => new SyntheticClass(k, f.Name, f.Folder, classes.Count(x => x == k))).ToList(),
            NpzArrays = arrays.Select(a => a.Name).ToList(),
            Tool = ToolVersion.Describe(),
        };
        AtomicFile.WriteAllBytes(Path.Combine(directory, SyntheticManifest.FileName), System.Text.Encoding.UTF8.GetBytes(manifest.ToJson()));
        return manifest;
    }

    /// <summary>Class names (from the checkpoint; <c>class_K</c> where it names none) and their folder names, encoded
    /// by <see cref="ClassFolderNames"/> so that the ImageFolder reader gives the names back (<c>T-shirt/top</c> is the
    /// folder <c>T-shirt%2Ftop</c>).</summary>
    internal static List<(string Name, string Folder)> ClassFolders(IReadOnlyList<string> classNames, int labelDim)
    {
        var names = Enumerable.Range(0, labelDim).Select(k => k < classNames.Count ? classNames[k] : $"class_{k}").ToList();
        var empty = names.FindIndex(n => n.Length == 0);
        if (empty >= 0) throw new ArgumentException($"class {empty} of the checkpoint has an empty name, which no folder can hold; name it in the dataset");
        var folders = ClassFolderNames.For(names);
        return names.Select((name, k) => (name, folders[k])).ToList();
    }

    private static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
