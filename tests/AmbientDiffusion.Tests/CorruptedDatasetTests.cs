using System.Security.Cryptography;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Tests;

public class CorruptedDatasetTests
{
    private static string Corrupt(TempDir dir, string prepared, CorruptionOperator op, ulong seed, string name)
    {
        using var source = PreparedDataset.Open(prepared);
        var path = dir.File(name);
        DatasetCorruptor.Run(source, op, seed, path);
        return path;
    }

    private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Same_seed_gives_identical_bytes_and_another_seed_other_masks()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 40, channels: 3, size: 16);
        var op = new PixelMask(0.6);
        var a = Corrupt(dir, prepared, op, 1, "a.safetensors");
        var b = Corrupt(dir, prepared, op, 1, "b.safetensors");
        var c = Corrupt(dir, prepared, op, 2, "c.safetensors");
        Assert.Equal(Sha(a), Sha(b));
        using var fa = SafeTensors.Open(a);
        using var fc = SafeTensors.Open(c);
        using var scope = torch.NewDisposeScope();
        Assert.False(fa.GetTensor(CorruptedDataset.MasksKey).eq(fc.GetTensor(CorruptedDataset.MasksKey)).all().item<bool>());
    }

    [Fact]
    public void Removed_positions_are_zero_in_the_file_and_observed_ones_keep_their_values()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 20, channels: 3, size: 12);
        var path = Corrupt(dir, prepared, new PixelMask(0.5, perChannel: true), 4, "masked.safetensors");
        using var file = SafeTensors.Open(path);
        using var source = PreparedDataset.Open(prepared);
        using var scope = torch.NewDisposeScope();
        var observations = file.GetTensor(CorruptedDataset.ObservationsKey);
        var masks = file.GetTensor(CorruptedDataset.MasksKey);
        var clean = source.Images();
        Assert.Equal(ScalarType.Byte, observations.dtype);
        Assert.Equal(new long[] { 20, 3, 12, 12 }, masks.shape);
        var removed = masks.eq(0);
        Assert.Equal(0, observations.masked_fill(removed.logical_not(), 0).to(ScalarType.Int64).sum().item<long>());
        var observed = removed.logical_not();
        Assert.True(observations.eq(clean).logical_or(removed).all().item<bool>());
        Assert.True(observed.any().item<bool>() && removed.any().item<bool>());
        Assert.Equal(CorruptedDataset.FormatName, file.Metadata["format"]);
        Assert.Equal(source.FileSha256(), file.Metadata["source_file_sha256"]);
        Assert.Contains("pixel(p=0.5, per_channel)", file.Metadata["corruption"], StringComparison.Ordinal);
    }

    [Fact]
    public void Noisy_artifacts_store_float16_and_zero_removed_pixels()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 10, channels: 1, size: 16);
        var path = Corrupt(dir, prepared, new CompositeCorruption([new BoxMask(0.25), new GaussianNoise(0.2)]), 0, "noisy.safetensors");
        using var data = CorruptedDataset.Open(path);
        Assert.Equal(ScalarType.Float16, data.ObservationType);
        Assert.True(data.HasNoise && data.HasMissingPixels);
        Assert.Equal(0.2f, data.NoiseSigma(3), 6);
        var y = new float[256];
        var m = new float[256];
        data.ReadSample(3, y, m);
        for (var i = 0; i < 256; i++)
            if (m[i] == 0) Assert.Equal(0f, y[i]);
        Assert.InRange(m.Count(v => v == 0), 64 - 16, 64 + 16);
    }

    [Fact]
    public void Reader_zeroes_removed_pixels_even_if_a_file_holds_values_there()
    {
        // A hand-made artifact that (wrongly) stores clean values under the mask: the firewall is in the reader too.
        using var dir = new TempDir();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("leaky.safetensors");
        SafeTensors.Save(path, new List<KeyValuePair<string, Tensor>>
        {
            new(CorruptedDataset.ObservationsKey, torch.full([1, 1, 2, 2], 200, ScalarType.Byte)),
            new(CorruptedDataset.MasksKey, torch.tensor(new byte[] { 1, 0, 0, 1 }, [1, 1, 2, 2])),
            new(CorruptedDataset.NoiseSigmaKey, torch.zeros([1])),
        }, new Dictionary<string, string> { ["format"] = CorruptedDataset.FormatName });
        using var data = CorruptedDataset.Open(path);
        var y = new float[4];
        var m = new float[4];
        data.ReadSample(0, y, m);
        Assert.Equal(new[] { 200 / 127.5f - 1, 0, 0, 200 / 127.5f - 1 }, y);
    }

    [Fact]
    public void Preview_shows_clean_next_to_corrupted()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 6, channels: 1, size: 8);
        var path = Corrupt(dir, prepared, new PixelMask(0.5), 0, "c.safetensors");
        using var source = PreparedDataset.Open(prepared);
        using var data = CorruptedDataset.Open(path);
        var png = dir.File("preview.png");
        DatasetCorruptor.WritePreview(source, data, 4, png);
        using var scope = torch.NewDisposeScope();
        var image = AmbientDiffusion.Torch.Imaging.ImageCodec.DecodeFile(png);
        // 8 tiles of 8 px in one row with 2 px gaps.
        Assert.Equal(new long[] { 8 + 4, 8 * 8 + 9 * 2, 3 }, image.shape);
    }

    [Fact]
    public void Opening_a_prepared_dataset_as_corrupted_data_is_a_clear_error()
    {
        using var dir = new TempDir();
        var prepared = Fixtures.PreparedDataset(dir, count: 2, channels: 1, size: 4);
        var e = Assert.Throws<InvalidDataException>(() => CorruptedDataset.Open(prepared));
        Assert.Contains("not a corrupted dataset", e.Message, StringComparison.Ordinal);
        Assert.Contains(prepared, e.Message, StringComparison.Ordinal);
    }
}
