using AmbientDiffusion.Cli;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;

namespace AmbientDiffusion.Tests;

public class CliDataCommandsTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    [Fact]
    public void Prepare_then_corrupt_with_preview_from_an_image_folder()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "faces");
        for (var i = 0; i < 6; i++) Fixtures.WriteImage(Path.Combine(root, $"{i}.jpg"), Fixtures.RandomPixels(24, 20, 3, i), 24, 20, 3);
        var prepared = dir.File("faces.safetensors");
        Assert.Equal(0, Ambient("prepare", root, "-r", "8", "-n", "4", "--heldout", "2", "-o", prepared));
        var corrupted = dir.File("faces-box.safetensors");
        Assert.Equal(0, Ambient("corrupt", prepared, "--mask", "box", "--p", "0.25", "--seed", "3", "-o", corrupted, "--preview", "3"));
        using var data = CorruptedDataset.Open(corrupted);
        Assert.Equal((4, 3, 8), (data.Count, data.Channels, data.Height));
        Assert.True(File.Exists(dir.File("faces-box.preview.png")));
    }

    [Fact]
    public void User_errors_exit_1_and_leave_nothing_behind()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 4, channels: 1, size: 8);
        var output = dir.File("out.safetensors");
        Assert.Equal(1, Ambient("corrupt", prepared, "--p", "1.5", "-o", output));
        Assert.Equal(1, Ambient("corrupt", prepared, "--mask", "none", "--noise-sigma", "-0.1", "-o", output));
        Assert.Equal(1, Ambient("corrupt", dir.File("missing.safetensors"), "--p", "0.5", "-o", output));
        Assert.Equal(1, Ambient("prepare", Path.Combine(dir.Path, "no-such-folder"), "-r", "8", "-o", output));
        Assert.Equal(1, Ambient("prepare", prepared, "-r", "8", "-o", output));
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void One_line_messages_drop_the_parameter_suffix()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new PixelMask(2));
        Assert.Equal("p = 2: expected a probability in [0, 1)", CommandRunner.OneLine(e));
    }

    [Fact]
    public void Unknown_command_is_a_usage_error()
    {
        Assert.Equal(1, Ambient("bogus"));
        Assert.Equal(0, Ambient("corrupt", "--help"));
        Assert.Equal(0, Ambient("prepare", "--help"));
    }
}
