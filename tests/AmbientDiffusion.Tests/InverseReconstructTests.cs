using System.Text.Json;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Inverse;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>`ambient measure` and `ambient reconstruct` end to end on tiny data with a checkpoint trained a few steps.</summary>
[Collection("memory")]
public class InverseReconstructTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    private static byte[] Samples(string directory)
    {
        using var scope = torch.NewDisposeScope();
        using var file = SampleSet.Open(Path.Combine(directory, SampleSet.TensorFile));
        return file.GetTensor(SampleSet.SamplesKey).data<byte>();
    }

    [Fact]
    public void Reconstruct_runs_end_to_end_is_deterministic_per_seed_and_checks_the_operator()
    {
        using var dir = new TempDir();
        var config = ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir));
        var runs = dir.File("runs");
        Assert.Equal(0, Ambient("train", config, "--runs", runs, "--set", "sampling.seeds=", "--set", "memorization.enabled=false"));
        var run = Path.Combine(runs, "tiny");
        var prepared = dir.File("prepared.safetensors");
        var measured = dir.File("pool.safetensors");
        Assert.Equal(0, Ambient("measure", prepared, "--operator", "pool(k=2) + noise(sigma=0.05)", "--images", "0-3", "--seed", "4", "-o", measured));
        using (var artifact = MeasurementArtifact.Open(measured))
        {
            Assert.Equal(4, artifact.Count);
            Assert.Equal(MeasuredSplit.Heldout, artifact.Split);
            Assert.Equal("pool(k=2) + noise(sigma=0.05)", artifact.Spec.Describe());
            Assert.DoesNotContain(artifact.Metadata.Keys, k => k.Contains("clean", StringComparison.Ordinal));
            var error = Assert.Throws<ArgumentException>(() => artifact.RequireOperator(OperatorSpec.Parse("pool(k=4) + noise(sigma=0.05)")));
            Assert.Contains("made with pool(k=2) + noise(sigma=0.05), not the requested pool(k=4)", error.Message, StringComparison.Ordinal);
        }
        string Reconstruct(string name, string method, params string[] extra) =>
            Ambient(["reconstruct", "-c", run, "-m", measured, "--method", method, "--steps", "3", "--samples", "2", "--seed", "10",
                "--reference", prepared, "--operator", "pool(k=2) + noise(sigma=0.05)", "-o", dir.File(name), .. extra]) == 0 ? dir.File(name) : throw new InvalidOperationException($"reconstruct {name} failed");
        var mmps = Reconstruct("mmps", "mmps", "--cg-iterations", "2");
        var again = Reconstruct("mmps-again", "mmps", "--cg-iterations", "2");
        var rebatched = Reconstruct("mmps-batch3", "mmps", "--cg-iterations", "2", "--batch", "3");
        var dps = Reconstruct("dps", "dps", "--guidance-scale", "0.5");
        Assert.Equal(Samples(mmps), Samples(again));
        // Another batch size changes float32 rounding inside the network (amplified by the forward difference of an
        // ambient prior's Jacobian), by a grey level or two at most.
        Assert.True(Samples(mmps).Zip(Samples(rebatched), (a, b) => Math.Abs(a - b)).Max() <= 2);
        Assert.NotEqual(Samples(mmps), Samples(dps));
        Assert.Equal(8 * 8 * 8, Samples(mmps).Length);
        foreach (var file in new[] { ReconstructionReport.JsonFile, ReconstructionReport.HtmlFile, ReconstructionReport.ComparisonFile, SampleSet.GridFile })
            Assert.True(File.Exists(Path.Combine(mmps, file)), file);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(mmps, ReconstructionReport.JsonFile)));
        var mean = report.RootElement.GetProperty("mean");
        Assert.True(mean.GetProperty("reconstruction").GetProperty("psnr").GetDouble() > 0);
        Assert.True(mean.GetProperty("pseudo_inverse").GetProperty("consistency").GetDouble() >= 0);
        Assert.Equal(8, report.RootElement.GetProperty("per_image").GetProperty("reconstruction").GetProperty("psnr").GetArrayLength());
        // The seeds of measurement j are seed + 2j and seed + 2j + 1.
        Assert.Equal([10, 11, 12, 13, 14, 15, 16, 17], report.RootElement.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        // The wrong operator, a wrong artifact and an invalid option are errors, not crashes.
        Assert.Equal(1, Ambient("reconstruct", "-c", run, "-m", measured, "--operator", "pixel(p=0.5)", "-o", dir.File("x")));
        Assert.Equal(1, Ambient("reconstruct", "-c", run, "-m", prepared, "-o", dir.File("x")));
        Assert.Equal(1, Ambient("reconstruct", "-c", run, "-m", measured, "--cg-iterations", "0", "-o", dir.File("x")));
        Assert.Equal(1, Ambient("measure", prepared, "--operator", "pool(k=3)", "-o", dir.File("bad.safetensors")));
        Assert.False(Directory.Exists(dir.File("x")));
    }

    [Fact]
    public void A_class_conditional_ambient_checkpoint_is_a_prior_through_its_null_label()
    {
        using var dir = new TempDir();
        var prepared = ConditionalData.Prepared(dir, 32);
        var checkpoint = ConditionalData.Train(dir, ConditionalData.Corrupted(dir, prepared, new PixelMask(0.3)), LossKind.Ambient);
        var measured = dir.File("inpaint.safetensors");
        Assert.Equal(0, Ambient("measure", prepared, "--split", "train", "--operator", "pixel(p=0.6)", "--images", "0-1", "--seed", "1", "-o", measured));
        string Reconstruct(string name) =>
            Ambient("reconstruct", "-c", checkpoint, "-m", measured, "--method", "mmps", "--steps", "3", "--sigma-min", "0.2", "--cg-iterations", "1", "--seed", "2",
                "--reference", prepared, "-o", dir.File(name)) == 0 ? dir.File(name) : throw new InvalidOperationException($"reconstruct {name} failed");
        var first = Samples(Reconstruct("a"));
        Assert.Equal(2 * 8 * 8, first.Length);
        Assert.Equal(first, Samples(Reconstruct("b")));
    }
}
