using AmbientDiffusion.Classification;
using AmbientDiffusion.Cli;

namespace AmbientDiffusion.Tests;

public class ClassifierCliTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    [Fact]
    public void Prepare_class_folders_then_train_and_eval_a_classifier()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "classes");
        for (var i = 0; i < 24; i++)
        {
            var bright = i % 2 == 0;
            var pixels = Fixtures.RandomPixels(8, 8, 3, i).Select(v => (byte)(bright ? 160 + v % 90 : v % 90)).ToArray();
            Fixtures.WriteImage(Path.Combine(root, bright ? "bright" : "dark", $"{i}.png"), pixels, 8, 8, 3);
        }
        var prepared = dir.File("classes.safetensors");
        Assert.Equal(0, Ambient("prepare", root, "-r", "8", "--heldout", "8", "-o", prepared));
        var checkpoint = dir.File("clf.safetensors");
        Assert.Equal(0, Ambient("classifier", "train", prepared, "-o", checkpoint, "--epochs", "8", "--batch-size", "4", "--seed", "1", "--device", "cpu"));
        using (var classifier = ClassifierCheckpoint.Load(checkpoint))
        {
            Assert.Equal(["bright", "dark"], classifier.Info.ClassNames);
            Assert.NotNull(classifier.Info.HeldOutAccuracy);
        }
        Assert.Equal(0, Ambient("classifier", "eval", checkpoint, prepared, "--device", "cpu"));
        Assert.Equal(0, Ambient("classifier", "eval", checkpoint, prepared, "--train", "--device", "cpu"));
    }

    [Fact]
    public void Unlabelled_data_and_misplaced_attributes_are_user_errors()
    {
        using var dir = new TempDir();
        var unlabelled = Fixtures.PreparedDataset(dir, count: 4, channels: 1, size: 8);
        var output = dir.File("clf.safetensors");
        Assert.Equal(1, Ambient("classifier", "train", unlabelled, "-o", output, "--device", "cpu"));
        Assert.False(File.Exists(output));
        Assert.Equal(1, Ambient("classifier", "eval", unlabelled, unlabelled));
        var root = Path.Combine(dir.Path, "flat");
        for (var i = 0; i < 3; i++) Fixtures.WriteImage(Path.Combine(root, $"{i}.png"), Fixtures.RandomPixels(8, 8, 3, i), 8, 8, 3);
        Assert.Equal(1, Ambient("prepare", root, "-r", "8", "--celeba-attributes", "Male", "-o", dir.File("out.safetensors")));
        Assert.False(File.Exists(dir.File("out.safetensors")));
    }
}
