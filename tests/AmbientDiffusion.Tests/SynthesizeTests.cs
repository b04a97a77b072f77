using System.Diagnostics;
using System.Security.Cryptography;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Tests;

public class SynthesizeTests
{
    private static (TempDir dir, string checkpoint) TrainedModel()
    {
        var dir = new TempDir();
        var corrupted = ConditionalData.Corrupted(dir, ConditionalData.Prepared(dir, 16));
        return (dir, ConditionalData.Train(dir, corrupted, duration: 0.016));
    }

    /// <summary>Runs Debian's NumPy on <paramref name="script"/> and returns its standard output.</summary>
    private static string NumPy(string script)
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        return output.Trim();
    }

    [Fact]
    public void Export_writes_class_folders_an_npz_numpy_reads_and_a_manifest()
    {
        var (dir, checkpoint) = TrainedModel();
        using var _ = dir;
        using var sampler = CheckpointSampler.Load(checkpoint, Device.CPU);
        var output = dir.File("synthetic");
        var options = new SamplerOptions { Steps = 3, Guidance = 2 };
        var manifest = SyntheticExport.Write(sampler, new SyntheticOptions(PerClass: 3, FirstSeed: 5, Views: 2, ViewScale: 0.3), options, batchSize: 5, output);

        // Per class: 3 starting noises × 2 views, in a folder named after the class.
        Assert.Equal(12, manifest.Count);
        Assert.Equal(["top", "bottom"], manifest.Classes.Select(c => c.Name));
        Assert.All(manifest.Classes, c => Assert.Equal(6, c.Count));
        foreach (var c in manifest.Classes) Assert.Equal(6, Directory.GetFiles(Path.Combine(output, c.Folder), "*.png").Length);
        // Base seeds 5..10; seed s is drawn for class s mod 2.
        Assert.True(File.Exists(Path.Combine(output, "bottom", "000005_v1.png")));
        Assert.True(File.Exists(Path.Combine(output, "top", "000010_v0.png")));

        var read = SyntheticManifest.Read(Path.Combine(output, SyntheticManifest.FileName));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(checkpoint))), read.CheckpointSha256);
        Assert.Equal(Path.GetFullPath(checkpoint), read.Checkpoint);
        Assert.Equal((2.0, 3, 5UL, 6, 3, 2, 0.3, 12), (read.Guidance, read.Steps, read.FirstSeed, read.BaseSamples, read.PerClass, read.Views, read.ViewScale, read.Count));
        Assert.Equal(["images", "labels", "groups"], read.NpzArrays);
        Assert.Equal("5-10", read.Seeds);
        Assert.Equal([8, 8, 1], read.ImageShape);
        Assert.Equal("ema", read.Weights);
        Assert.Equal(3, read.SamplerOptions.GetProperty("steps").GetInt32());

        // NumPy reads the arrays: uint8 images [N, H, W, C], int64 labels and groups.
        var npz = Path.Combine(output, SyntheticManifest.NumpyFile);
        var summary = NumPy($"""
            import numpy as np
            d = np.load({System.Text.Json.JsonSerializer.Serialize(npz)})
            print(sorted(d.files), d['images'].dtype, d['images'].shape, d['labels'].dtype, list(d['labels']), d['groups'].dtype, list(d['groups']), int(d['images'].sum()))
            """);
        using var scope = torch.NewDisposeScope();
        var expectedSum = 0L;
        var pngs = new List<byte[]>();
        for (var i = 0; i < 12; i++)
        {
            var seed = 5 + i / 2;
            var png = ImageCodec.DecodeFile(Path.Combine(output, seed % 2 == 0 ? "top" : "bottom", $"{seed:D6}_v{i % 2}.png"), channels: 1);
            var bytes = png.data<byte>().ToArray();
            pngs.Add(bytes);
            expectedSum += bytes.Sum(b => (long)b);
        }
        Assert.Equal($"['groups', 'images', 'labels'] uint8 (12, 8, 8, 1) int64 [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0] int64 [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5] {expectedSum}", summary);
        // Two views of one starting noise are different images.
        Assert.NotEqual(pngs[0], pngs[1]);
    }

    [Fact]
    public void One_view_gives_exactly_the_images_of_ambient_sample_and_prepare_reads_the_folder()
    {
        var (dir, checkpoint) = TrainedModel();
        using var _ = dir;
        using var sampler = CheckpointSampler.Load(checkpoint, Device.CPU);
        var output = dir.File("synthetic");
        var options = new SamplerOptions { Steps = 3, Guidance = 1.5 };
        var manifest = SyntheticExport.Write(sampler, new SyntheticOptions(PerClass: 2), options, batchSize: 4, output);
        Assert.Equal(["images", "labels"], manifest.NpzArrays);
        using var scope = torch.NewDisposeScope();
        var sampled = sampler.Sample([0, 1, 2, 3], options, 4).permute(0, 2, 3, 1).contiguous().data<byte>().ToArray();
        var exported = Enumerable.Range(0, 4).SelectMany(s => ImageCodec.DecodeFile(Path.Combine(output, s % 2 == 0 ? "top" : "bottom", $"{s:D6}.png"), channels: 1).data<byte>().ToArray()).ToArray();
        Assert.Equal(sampled, exported);

        // The export (npz and manifest at its root) is a labelled ImageFolder source for `prepare`.
        var source = new ImageFolderSource(output);
        Assert.Equal(4, source.Count);
        Assert.Equal(["bottom", "top"], source.Labels!.ClassNames);
        DatasetPreparer.Run(source, dir.File("again.safetensors"), new PrepareOptions(8, 1, Seed: 1));
        using var prepared = PreparedDataset.Open(dir.File("again.safetensors"));
        Assert.Equal(4, prepared.Count);
        Assert.Equal(2, prepared.Labels!.Count(l => l == 0));
    }

    [Fact]
    public void The_cli_exports_and_refuses_unconditional_models_and_bad_options()
    {
        var (dir, checkpoint) = TrainedModel();
        using var _ = dir;
        int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);
        var output = dir.File("cli");
        Assert.Equal(0, Ambient("synthesize", dir.File("run"), "--per-class", "2", "--steps", "3", "--guidance", "2", "--sigma-min", "0.2", "-o", output));
        var manifest = SyntheticManifest.Read(Path.Combine(output, SyntheticManifest.FileName));
        Assert.Equal(2.0, manifest.Guidance);
        Assert.Equal(0.2, manifest.SamplerOptions.GetProperty("sigma_min").GetDouble());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "top"), "*.png").Length);
        Assert.Equal(1, Ambient("synthesize", dir.File("run"), "--per-class", "0", "-o", dir.File("bad")));
        Assert.Equal(1, Ambient("synthesize", dir.File("run"), "--per-class", "2", "--guidance", "-1", "-o", dir.File("bad")));
        Assert.Equal(1, Ambient("sample", "-c", dir.File("run"), "--seeds", "0-1", "--steps", "3", "--class", "2", "-o", dir.File("bad")));
        Assert.False(Directory.Exists(dir.File("bad")));
        Assert.Equal(0, Ambient("sample", "-c", dir.File("run"), "--seeds", "0-3", "--steps", "3", "--class", "1", "--guidance", "3", "-o", dir.File("samples")));
        using (var file = SampleSet.Open(Path.Combine(dir.File("samples"), SampleSet.TensorFile)))
        {
            Assert.Equal([1L, 1L, 1L, 1L], file.GetTensor(DatasetLabels.LabelsKey).data<long>().ToArray());
            Assert.Equal("3", file.Metadata["guidance"]);
            Assert.Equal(["top", "bottom"], DatasetLabels.ReadClassNames(file));
        }

        // An unconditional model has no classes to export.
        var unlabelled = ConditionalData.Corrupted(dir, Fixtures.PreparedDataset(dir, 16, 1, 8, name: "plain.safetensors"), name: "plain-corrupted.safetensors");
        ConditionalData.Train(dir, unlabelled, duration: 0.016, run: "plain-run");
        Assert.Equal(1, Ambient("synthesize", dir.File("plain-run"), "--per-class", "2", "-o", dir.File("bad")));
        using var sampler = CheckpointSampler.Load(Training.Checkpoint.Latest(Path.Combine(dir.File("plain-run"), "checkpoints"))!, Device.CPU);
        Assert.Contains("unconditional", Assert.Throws<ArgumentException>(() => SyntheticExport.Write(sampler, new SyntheticOptions(1), new SamplerOptions { Steps = 2 }, 1, dir.File("bad"))).Message);
    }

    [Fact]
    public void Synthesize_into_a_used_folder_is_refused_and_overwrite_leaves_exactly_the_new_files()
    {
        var (dir, _) = TrainedModel();
        using var _ = dir;
        int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);
        var output = dir.File("synthetic");
        string[] Pngs() => Directory.GetFiles(output, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(0, Ambient("synthesize", dir.File("run"), "--per-class", "3", "--steps", "2", "-o", output));
        var first = Pngs();
        Assert.Equal(6, first.Length);

        // A second export into the same folder would leave the old PNGs beside the new ones: refused, nothing changed.
        Assert.Equal(1, Ambient("synthesize", dir.File("run"), "--per-class", "1", "--steps", "2", "--first-seed", "100", "-o", output));
        Assert.Equal(first, Pngs());

        Assert.Equal(0, Ambient("synthesize", dir.File("run"), "--per-class", "1", "--steps", "2", "--first-seed", "100", "--overwrite", "-o", output));
        var manifest = SyntheticManifest.Read(Path.Combine(output, SyntheticManifest.FileName));
        Assert.Equal(2, manifest.Count);
        Assert.Equal(manifest.Count, Pngs().Length);
        Assert.Empty(Pngs().Intersect(first));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path, ".synthetic*"));
        var source = new ImageFolderSource(output);
        Assert.Equal(2, source.Count);
    }

    [Fact]
    public void Class_folders_are_safe_file_names_and_unique()
    {
        var folders = SyntheticExport.ClassFolders(["T-shirt/top", "Trouser", "a:b", "a?b", ".."], 6);
        // Percent-encoded (issue 22 item 11): the old '_' replacement could not be read back as T-shirt/top.
        Assert.Equal(["T-shirt%2Ftop", "Trouser", "a%3Ab", "a%3Fb", "%2E%2E", "class_5"], folders.Select(f => f.Folder));
        Assert.Equal("T-shirt/top", folders[0].Name);
        Assert.Equal("class_5", folders[5].Name);
        Assert.Equal(folders.Select(f => f.Name), folders.Select(f => ClassFolderNames.Decode(f.Folder)));
    }
}
