using AmbientDiffusion.Config;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.Torch.Imaging;

namespace AmbientDiffusion.Tests;

/// <summary>story.png: the corrupted images training saw beside the samples, written by a run after sampling.</summary>
[Collection("memory")]
public class StoryPictureTests
{
    private static readonly (byte R, byte G, byte B) Magenta = (255, 0, 255);

    private static byte[] Uniform(int height, int width, (byte R, byte G, byte B) color)
    {
        var rgb = new byte[height * width * 3];
        for (var i = 0; i < height * width; i++) (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = color;
        return rgb;
    }

    private static (byte R, byte G, byte B) Pixel(byte[] hwc, int width, int x, int y) =>
        (hwc[(y * width + x) * 3], hwc[(y * width + x) * 3 + 1], hwc[(y * width + x) * 3 + 2]);

    [Fact]
    public void A_tiny_run_writes_the_story_with_removed_pixels_on_the_left_only()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)));
        var result = new ExperimentRunner(dir.File("runs")).Run(config);
        Assert.True(result.Sampled);
        Assert.True(File.Exists(result.Run.Story));

        using var scope = torch.NewDisposeScope();
        var image = ImageCodec.DecodeFile(result.Run.Story, channels: 3);
        var (height, width) = ((int)image.shape[0], (int)image.shape[1]);
        var pixels = image.contiguous().data<byte>().ToArray();
        // 8x8 images enlarged to 88x88 tiles in rows of 4: 16 of the 24 training images (four rows), 8 samples (two).
        Assert.InRange(height, 4 * 88, 4 * 88 + 100);
        Assert.True(width > 2 * 4 * 88, $"width {width}");
        int MagentaIn(int x0, int x1)
        {
            var count = 0;
            for (var y = 0; y < height; y++)
                for (var x = x0; x < x1; x++)
                    if (Pixel(pixels, width, x, y) == Magenta) count++;
            return count;
        }
        // p = 0.5 removes about half the pixels of what training saw; the samples have none removed.
        Assert.InRange(MagentaIn(0, width / 2), 0.3 * 16 * 88 * 88, 0.7 * 16 * 88 * 88);
        Assert.Equal(0, MagentaIn(width / 2, width));

        // Resuming a finished run leaves the story as it is (it is newer than the samples).
        var written = File.GetLastWriteTimeUtc(result.Run.Story);
        new ExperimentRunner(dir.File("runs")).Run(config, resume: true);
        Assert.Equal(written, File.GetLastWriteTimeUtc(result.Run.Story));
    }

    [Fact]
    public void Render_enlarges_each_tile_by_a_whole_factor_and_keeps_the_two_sides_apart()
    {
        // 28x28 tiles become 84x84 (factor 3); the seen side red, the generated side blue.
        var seen = Enumerable.Repeat(Uniform(28, 28, (200, 0, 0)), 4).ToList();
        var generated = Enumerable.Repeat(Uniform(28, 28, (0, 0, 200)), 6).ToList();
        using var picture = StoryPicture.Render(seen, generated, 28, 28, new("Seen", "half removed"), new("Made", "six samples"));
        var pixels = picture.Rgb();
        var (red, blue) = (0, 0);
        int firstBlueX = picture.Width, lastRedX = -1;
        for (var y = 0; y < picture.Height; y++)
            for (var x = 0; x < picture.Width; x++)
            {
                var p = Pixel(pixels, picture.Width, x, y);
                if (p == (200, 0, 0)) { red++; lastRedX = Math.Max(lastRedX, x); }
                if (p == (0, 0, 200)) { blue++; firstBlueX = Math.Min(firstBlueX, x); }
            }
        Assert.Equal(4 * 84 * 84, red);
        Assert.Equal(6 * 84 * 84, blue);
        Assert.True(lastRedX < firstBlueX, "the generated grid lies right of the seen grid");
    }

    [Fact]
    public void Samples_of_another_size_than_the_training_images_are_refused_with_both_paths()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir)));
        var result = new ExperimentRunner(dir.File("runs")).Run(config);
        var other = dir.File("other");
        using (var scope = torch.NewDisposeScope())
            Sampling.SampleSet.Write(other, torch.zeros([2, 1, 6, 6], dtype: ScalarType.Byte), [0UL, 1UL], new Dictionary<string, string>());
        var error = Assert.Throws<InvalidDataException>(() =>
            StoryPicture.Write(result.Inputs.Corrupted, Path.Combine(other, "samples.safetensors"), dir.File("story.png")));
        Assert.Contains("6x6", error.Message, StringComparison.Ordinal);
        Assert.Contains(result.Inputs.Corrupted, error.Message, StringComparison.Ordinal);
    }
}
