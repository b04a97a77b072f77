using AmbientDiffusion.Corruption;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

public class BatchLoaderTests
{
    /// <summary>An artifact whose observation at (y, x) of image i is a value encoding x, and whose mask removes the
    /// left half of the image: a flip must move both.</summary>
    private static string PositionalArtifact(TempDir dir, int count = 10, int size = 8)
    {
        using var scope = torch.NewDisposeScope();
        var obs = new byte[count * size * size];
        var mask = new byte[count * size * size];
        for (var i = 0; i < count; i++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                {
                    var k = (i * size + y) * size + x;
                    mask[k] = x >= size / 2 ? (byte)1 : (byte)0;
                    obs[k] = mask[k] == 1 ? (byte)(10 * x + i) : (byte)0;
                }
        var path = dir.File("positional.safetensors");
        SafeTensors.Save(path, new List<KeyValuePair<string, Tensor>>
        {
            new(CorruptedDataset.ObservationsKey, torch.tensor(obs, [count, 1, size, size])),
            new(CorruptedDataset.MasksKey, torch.tensor(mask, [count, 1, size, size])),
            new(CorruptedDataset.NoiseSigmaKey, torch.zeros([count])),
        }, new Dictionary<string, string> { ["format"] = CorruptedDataset.FormatName });
        return path;
    }

    [Fact]
    public void Flip_moves_image_and_mask_together()
    {
        using var dir = new TempDir();
        using var data = CorruptedDataset.Open(PositionalArtifact(dir));
        using var loader = new CorruptedBatchLoader(data, batchSize: 10, seed: 3, horizontalFlip: true);
        int flipped = 0, straight = 0;
        for (var b = 0; b < 4; b++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = loader.Next();
            var y = batch.Observations.data<float>();
            var m = batch.Masks.data<float>();
            for (var k = 0; k < 10; k++)
            {
                var leftObserved = m[k * 64] == 1;
                if (leftObserved) flipped++;
                else straight++;
                for (var row = 0; row < 8; row++)
                    for (var x = 0; x < 8; x++)
                    {
                        var at = k * 64 + row * 8 + x;
                        var sourceX = leftObserved ? 7 - x : x;
                        var expected = m[at] == 1 ? (10 * sourceX + batch.Indices[k]) / 127.5f - 1 : 0f;
                        Assert.Equal(sourceX >= 4 ? 1f : 0f, m[at]);
                        Assert.Equal(expected, y[at], 5);
                    }
            }
        }
        Assert.True(flipped > 5 && straight > 5, $"flips should be about half: {flipped} flipped, {straight} not");
    }

    [Fact]
    public void Every_epoch_visits_every_image_once_and_epochs_differ()
    {
        using var dir = new TempDir();
        using var data = CorruptedDataset.Open(PositionalArtifact(dir, count: 10));
        using var loader = new CorruptedBatchLoader(data, batchSize: 5, seed: 1, horizontalFlip: false);
        var epochs = new List<int[]>();
        for (var e = 0; e < 3; e++)
        {
            using var scope = torch.NewDisposeScope();
            var order = loader.Next().Indices.Concat(loader.Next().Indices).ToArray();
            Assert.Equal(Enumerable.Range(0, 10), order.Order());
            epochs.Add(order);
        }
        Assert.False(epochs[0].SequenceEqual(epochs[1]) && epochs[1].SequenceEqual(epochs[2]));
    }

    [Fact]
    public void Starting_at_batch_k_equals_continuing_an_uninterrupted_stream()
    {
        using var dir = new TempDir();
        using var data = CorruptedDataset.Open(PositionalArtifact(dir, count: 7));
        var straight = new List<float[]>();
        using (var loader = new CorruptedBatchLoader(data, batchSize: 3, seed: 9, prefetch: 1))
            for (var b = 0; b < 8; b++)
            {
                using var scope = torch.NewDisposeScope();
                straight.Add(loader.Next().Observations.data<float>());
            }
        using (var resumed = new CorruptedBatchLoader(data, batchSize: 3, seed: 9, startBatch: 5, prefetch: 3))
        {
            Assert.Equal(5, resumed.NextBatch);
            for (var b = 5; b < 8; b++)
            {
                using var scope = torch.NewDisposeScope();
                Assert.Equal(straight[b], resumed.Next().Observations.data<float>());
            }
            Assert.Equal(8, resumed.NextBatch);
        }
    }

    [Fact]
    public void Loader_stops_cleanly_and_leaks_no_tensors()
    {
        using var dir = new TempDir();
        using var data = CorruptedDataset.Open(PositionalArtifact(dir));
        var baseline = torch.live_tensors;
        using (var loader = new CorruptedBatchLoader(data, batchSize: 4, seed: 0))
            for (var i = 0; i < 20; i++)
            {
                using var scope = torch.NewDisposeScope();
                _ = loader.Next(Device.CPU);
            }
        Assert.Equal(baseline, torch.live_tensors);
    }
}
