using System.Diagnostics;
using System.Text.Json;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>Skips a test, with the reason shown, unless AMBIENT_EDM_SOURCES and AMBIENT_AMBIENT_SOURCES name checkouts of
/// NVlabs/edm and giannisdaras/ambient-diffusion and /usr/bin/python3 exists (the reference code is not vendored).</summary>
public sealed class ReferenceSourcesFactAttribute : FactAttribute
{
    public ReferenceSourcesFactAttribute()
    {
        if (!File.Exists("/usr/bin/python3")
            || !File.Exists(Path.Combine(Environment.GetEnvironmentVariable("AMBIENT_EDM_SOURCES") ?? "/nonexistent", "training", "networks.py"))
            || !File.Exists(Path.Combine(Environment.GetEnvironmentVariable("AMBIENT_AMBIENT_SOURCES") ?? "/nonexistent", "training", "networks.py")))
            Skip = "set AMBIENT_EDM_SOURCES and AMBIENT_AMBIENT_SOURCES to checkouts of NVlabs/edm and giannisdaras/ambient-diffusion to load exported networks in the reference code";
    }
}

/// <summary>
/// `ambient import` and `ambient export` against the official code (Fixtures/make_edm_equivalence.py): networks built by
/// NVlabs/edm (ungated) and giannisdaras/ambient-diffusion (gated), with and without class labels, give through the
/// import's code path the reference's denoiser output, EDM preconditioning included; export writes back what the
/// reference loads; and a file that does not match its architecture is refused naming the first tensor that differs.
/// </summary>
public class EdmInteropTests(Xunit.Abstractions.ITestOutputHelper output_)
{
    private static readonly string FixtureDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "edm_equivalence");

    private static string Fixture(string variant) => Path.Combine(FixtureDirectory, variant + ".safetensors");

    /// <summary>max |D_product − D_reference| over the fixture's inputs for <paramref name="denoiser"/>.</summary>
    private static double MaxDifference(Diffusion.EdmPreconditioner denoiser, string variant)
    {
        using var io = SafeTensors.Open(Path.Combine(FixtureDirectory, "io.safetensors"));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var labels = io.Contains(variant + "/labels") ? io.GetTensor(variant + "/labels") : null;
        var output = denoiser.forward(io.GetTensor(variant + "/x"), io.GetTensor(variant + "/sigma"), null, labels);
        return (output - io.GetTensor(variant + "/out")).abs().max().item<float>();
    }

    [Theory]
    [InlineData("edm_unconditional")]
    [InlineData("edm_conditional")]
    [InlineData("ambient_gated")]
    [InlineData("ambient_gated_conditional")]
    public void An_imported_reference_network_gives_the_reference_denoiser_output(string variant)
    {
        using var dropout = new Generator(0);
        var (denoiser, architecture) = EdmNetworkImport.Load(Fixture(variant), dropout);
        using (denoiser)
        {
            Assert.Equal(variant.StartsWith("ambient", StringComparison.Ordinal), architecture.Model.Gated);
            Assert.Equal(variant.EndsWith("conditional", StringComparison.Ordinal) && !variant.EndsWith("unconditional", StringComparison.Ordinal) ? 4 : 0, architecture.Geometry.LabelDim);
            var difference = MaxDifference(denoiser, variant);
            output_.WriteLine($"{variant}: max |D - D_reference| = {difference:E2}");
            Assert.True(difference <= 1e-5, $"{variant}: max |D - D_reference| = {difference:E2}");
        }
    }

    [Fact]
    public void Import_writes_a_run_whose_checkpoint_samples_and_records_its_source()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "edm-conditional");
        var checkpoint = EdmNetworkImport.Import(Fixture("edm_conditional"), run);
        Assert.True(File.Exists(new RunDirectory(run).Config));
        using (var sampler = CheckpointSampler.Load(checkpoint, Device.CPU))
        {
            Assert.Equal(Diffusion.SamplingMode.Plain, sampler.Mode);
            Assert.Equal(Path.GetFullPath(Fixture("edm_conditional")), sampler.Header.ImportedFrom);
            Assert.Equal(64, sampler.Header.ImportedSha256.Length);
            Assert.True(MaxDifference(sampler.Model, "edm_conditional") <= 1e-5);
            var options = ExperimentComposition.RunSampling(sampler.Header, checkpoint) with { Steps = 2 };
            using var samples = sampler.Sample([0, 1], options, 2);
            Assert.Equal([2L, 3, 16, 16], samples.shape);
        }
        var again = Assert.Throws<ArgumentException>(() => EdmNetworkImport.Import(Fixture("edm_conditional"), run));
        Assert.Contains("already holds checkpoints", again.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edm_unconditional")]
    [InlineData("ambient_gated_conditional")]
    public void Export_of_an_imported_network_writes_back_the_reference_file(string variant)
    {
        // The fixture files are what the reference rebuilt with load_state_dict(strict=True) and the same output
        // (make_edm_equivalence.py), so an export equal to them loads there too.
        using var dir = new TempDir();
        var checkpoint = EdmNetworkImport.Import(Fixture(variant), Path.Combine(dir.Path, "run"));
        var exported = dir.File("exported.safetensors");
        EdmNetworkExport.Export(checkpoint, exported);
        using var reference = SafeTensors.Open(Fixture(variant));
        using var export = SafeTensors.Open(exported);
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal), export.Keys.Order(StringComparer.Ordinal));
        foreach (var name in reference.Keys)
        {
            using var expected = reference.GetTensor(name);
            using var actual = export.GetTensor(name);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.data<float>().ToArray().SequenceEqual(actual.data<float>().ToArray()), $"{name} differs");
        }
        Assert.Equal(Kwargs(reference), Kwargs(export));
        Assert.Equal(reference.Metadata["network_class"], export.Metadata["network_class"]);
    }

    [Fact]
    public void Import_drops_edm_augmentation_conditioning_which_sampling_never_uses()
    {
        using var dir = new TempDir();
        var checkpoint = EdmNetworkImport.Import(Fixture("edm_conditional"), Path.Combine(dir.Path, "run"));
        var exported = dir.File("exported.safetensors");
        EdmNetworkExport.Export(checkpoint, exported);
        using var reference = SafeTensors.Open(Fixture("edm_conditional"));
        using var export = SafeTensors.Open(exported);
        Assert.Equal(["model.map_augment.weight"], reference.Keys.Except(export.Keys));
        Assert.Empty(export.Keys.Except(reference.Keys));
        var (expected, actual) = (Kwargs(reference), Kwargs(export));
        Assert.Equal("9", expected["augment_dim"]);
        Assert.Equal("0", actual["augment_dim"]);
        expected.Remove("augment_dim");
        actual.Remove("augment_dim");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named()
    {
        using var dir = new TempDir();
        const string name = "model.enc.8x8_block0.conv1.weight";
        var path = Rewrite(dir, "edm_unconditional", tensors => tensors[name] = torch.zeros([16, 16, 1, 1]));
        var error = Assert.Throws<InvalidDataException>(() => Import(dir, path));
        Assert.Contains($"'{name}' has shape [16, 16, 1, 1]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[16, 16, 3, 3]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var dir = new TempDir();
        const string name = "model.dec.8x8_block1.proj.gate_weight";
        var path = Rewrite(dir, "ambient_gated", tensors => tensors.Remove(name));
        var error = Assert.Throws<InvalidDataException>(() => Import(dir, path));
        Assert.Contains($"'{name}' is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        // An ungated network's file holding one gate: a file of another architecture than its metadata says.
        using var dir = new TempDir();
        const string name = "model.enc.16x16_conv.gate_weight";
        var path = Rewrite(dir, "edm_unconditional", tensors => tensors[name] = torch.zeros([8, 3, 3, 3]));
        var error = Assert.Throws<InvalidDataException>(() => Import(dir, path));
        Assert.Contains($"'{name}' is not part of the architecture", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("embedding_type", "\"fourier\"")]
    [InlineData("resample_filter", "[1,3,3,1]")]
    [InlineData("model_type", "\"DhariwalUNet\"")]
    [InlineData("channel_mult_emb", "2")]
    [InlineData("attention_heads", "4")]
    public void An_architecture_the_product_cannot_represent_is_named_by_its_argument(string key, string value)
    {
        using var dir = new TempDir();
        var path = Rewrite(dir, "edm_unconditional", _ => { }, kwargs => kwargs[key] = JsonDocument.Parse(value).RootElement);
        var error = Assert.Throws<InvalidDataException>(() => Import(dir, path));
        Assert.Contains($"network_kwargs.{key} = {value}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_refuses_a_gate_no_reference_computes()
    {
        var model = new Models.ModelSettings { Gated = true };
        var error = Assert.Throws<InvalidDataException>(() => EdmNetworkFile.CheckExportable(model, new Models.NetworkGeometry(16, 3, 0)));
        Assert.Contains("sigmoid_twice", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => EdmNetworkFile.CheckExportable(new Models.ModelSettings(), new Models.NetworkGeometry(16, 3, 1)));
    }

    [ReferenceSourcesFact]
    public void The_reference_code_loads_an_exported_network_strictly_and_computes_the_reference_output()
    {
        using var dir = new TempDir();
        foreach (var (variant, sources) in new[] { ("edm_conditional", "AMBIENT_EDM_SOURCES"), ("ambient_gated", "AMBIENT_AMBIENT_SOURCES") })
        {
            var checkpoint = EdmNetworkImport.Import(Fixture(variant), Path.Combine(dir.Path, variant));
            var exported = dir.File(variant + ".safetensors");
            EdmNetworkExport.Export(checkpoint, exported);
            var snapshot = dir.File(variant + ".pkl");
            var pythonPath = $"{Environment.GetEnvironmentVariable(sources)}:{Stubs(dir)}:{Path.Combine(RepositoryRoot(), "tools")}";
            var (code, output) = Python(pythonPath, Path.Combine(RepositoryRoot(), "tools", "load_edm_snapshot.py"), exported, "-o", snapshot);
            Assert.True(code == 0, output);
            // The unpickled reference network on the fixture's inputs: the reference's own output.
            const string compare = """
                import pickle, sys, torch, edm_safetensors
                net = pickle.load(open(sys.argv[1], "rb"))["ema"]
                io, _ = edm_safetensors.load(sys.argv[2])
                v = sys.argv[3]
                with torch.no_grad():
                    out = net(io[v + "/x"], io[v + "/sigma"], io.get(v + "/labels"))
                print((out - io[v + "/out"]).abs().max().item())
                """;
            (code, output) = Python(pythonPath, "-c", compare, snapshot, Path.Combine(FixtureDirectory, "io.safetensors"), variant);
            Assert.True(code == 0, output);
            var difference = double.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            output_.WriteLine($"{variant}: exported and loaded in the reference, max |D - D_reference| = {difference:E2}");
            Assert.True(difference <= 1e-5, $"{variant}: {difference:E2}");
        }
    }

    private static void Import(TempDir dir, string path) => EdmNetworkImport.Import(path, Path.Combine(dir.Path, "run-" + Guid.NewGuid().ToString("N")));

    private static Dictionary<string, string> Kwargs(SafeTensorsFile file) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(file.Metadata["network_kwargs"])!
            .ToDictionary(p => p.Key, p => p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture) : JsonSerializer.Serialize(p.Value));

    /// <summary>A copy of a fixture file with its tensors (and optionally its constructor arguments) edited.</summary>
    private static string Rewrite(TempDir dir, string variant, Action<Dictionary<string, Tensor>> edit, Action<Dictionary<string, JsonElement>>? editKwargs = null)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(Fixture(variant));
        var tensors = file.Keys.ToDictionary(k => k, k => file.GetTensor(k));
        edit(tensors);
        var metadata = new Dictionary<string, string>(file.Metadata);
        var kwargs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(metadata["network_kwargs"])!;
        editKwargs?.Invoke(kwargs);
        metadata["network_kwargs"] = JsonSerializer.Serialize(kwargs);
        var path = dir.File(variant + "-edited.safetensors");
        SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    /// <summary>Empty stand-ins for s3fs, torchvision and wandb, which ambient-diffusion's dnnlib and torch_utils import
    /// for I/O and logging but its networks never use (as make_edm_equivalence.py does where they are missing).</summary>
    private static string Stubs(TempDir dir)
    {
        var folder = Directory.CreateDirectory(dir.File("stubs")).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "torchvision"));
        foreach (var file in new[] { "s3fs.py", "wandb.py", "torchvision/__init__.py", "torchvision/transforms.py" })
            File.WriteAllText(Path.Combine(folder, file), "");
        return folder;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "tools", "load_edm_snapshot.py"))) return folder.FullName;
        throw new DirectoryNotFoundException($"no tools/load_edm_snapshot.py above {AppContext.BaseDirectory}");
    }

    private static (int Code, string Output) Python(string pythonPath, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PYTHONPATH"] = pythonPath;
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }
}
