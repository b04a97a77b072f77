using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

public class DatasetLabelTests
{
    /// <summary>An IDX pair in a folder named like Fashion-MNIST: image i is uniformly 10 + 5i, its label i mod 10.</summary>
    private static string FashionLikeIdx(TempDir dir, int count, Func<int, byte>? label = null)
    {
        var folder = Path.Combine(dir.Path, "fashion-mnist");
        Directory.CreateDirectory(folder);
        var pixels = new byte[count * 36];
        for (var i = 0; i < count; i++) pixels.AsSpan(i * 36, 36).Fill((byte)(10 + 5 * i));
        var images = Path.Combine(folder, "train-images-idx3-ubyte.gz");
        Fixtures.WriteIdx(images, pixels, count, 6, 6, gzip: true);
        var labels = new byte[8 + count];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(labels, 0x00000801);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(labels.AsSpan(4), (uint)count);
        for (var i = 0; i < count; i++) labels[8 + i] = label?.Invoke(i) ?? (byte)(i % 10);
        using (var file = File.Create(Path.Combine(folder, "train-labels-idx1-ubyte.gz")))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
            gzip.Write(labels);
        return images;
    }

    private static int ImageNumber(byte value) => (value - 10) / 5;

    [Fact]
    public void Idx_labels_survive_prepare_corrupt_and_the_loader_with_flips()
    {
        using var dir = new TempDir();
        var source = new IdxSource(FashionLikeIdx(dir, 40));
        Assert.Equal(SourceLabels.FashionMnistClassNames, source.Labels!.ClassNames);
        var prepared = dir.File("prepared.safetensors");
        DatasetPreparer.Run(source, prepared, new PrepareOptions(6, 1, Count: 30, HeldOut: 10, Seed: 4));
        var image = new byte[36];
        using (var data = PreparedDataset.Open(prepared))
        {
            Assert.Equal(SourceLabels.FashionMnistClassNames, data.ClassNames);
            for (var k = 0; k < data.Count; k++)
            {
                data.ReadImage(k, image);
                Assert.Equal(ImageNumber(image[0]) % 10, data.Labels![k]);
            }
            for (var k = 0; k < data.HeldOutCount; k++)
            {
                data.ReadHeldOut(k, image);
                Assert.Equal(ImageNumber(image[0]) % 10, data.HeldOutLabels![k]);
            }
            DatasetCorruptor.Run(data, new CorruptionSpec { Mask = MaskKind.Pixel, P = 0.3 }.ToOperator(), 1, dir.File("corrupted.safetensors"));
        }
        using var corrupted = CorruptedDataset.Open(dir.File("corrupted.safetensors"));
        Assert.Equal(SourceLabels.FashionMnistClassNames, corrupted.ClassNames);
        using var loader = new CorruptedBatchLoader(corrupted, batchSize: 8, seed: 2, horizontalFlip: true);
        var flips = 0;
        for (var b = 0; b < 8; b++)
        {
            using var scope = torch.NewDisposeScope();
            var position = loader.NextBatch * 8;
            var batch = loader.Next();
            var labels = batch.Labels!.data<long>();
            var observations = batch.Observations.data<float>();
            Assert.Equal([8], batch.Labels!.shape);
            for (var k = 0; k < 8; k++)
            {
                flips += loader.SampleAt(position + k).flipped ? 1 : 0;
                Assert.Equal(corrupted.Labels![batch.Indices[k]], labels[k]);
                // The observed pixels name the image; its label must be that image's.
                var observed = observations.Skip(k * 36).Take(36).First(v => v != 0);
                Assert.Equal(ImageNumber((byte)Math.Round((observed + 1) * 127.5)) % 10, labels[k]);
            }
        }
        Assert.InRange(flips, 1, 63);
    }

    [Fact]
    public void Image_folder_class_subfolders_become_ordinal_class_ids()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "classes");
        string[] folders = ["dog", "Zebra", "cat", "dog"];
        for (var i = 0; i < folders.Length; i++)
            Fixtures.WriteImage(Path.Combine(root, folders[i], $"{i}.png"), Enumerable.Repeat((byte)(40 * i + 20), 8 * 8 * 3).ToArray(), 8, 8, 3);
        var source = new ImageFolderSource(root);
        Assert.Equal(["Zebra", "cat", "dog"], source.Labels!.ClassNames);
        DatasetPreparer.Run(source, dir.File("out.safetensors"), new PrepareOptions(8, 3, HeldOut: 1, Seed: 1));
        using var data = PreparedDataset.Open(dir.File("out.safetensors"));
        Assert.Equal(["Zebra", "cat", "dog"], data.ClassNames);
        var image = new byte[data.ImageBytes];
        var expected = new Dictionary<byte, long> { [20] = 2, [60] = 0, [100] = 1, [140] = 2 };
        for (var k = 0; k < data.Count; k++)
        {
            data.ReadImage(k, image);
            Assert.Equal(expected[image[0]], data.Labels![k]);
        }
        data.ReadHeldOut(0, image);
        Assert.Equal(expected[image[0]], data.HeldOutLabels![0]);
    }

    [Fact]
    public void An_unlabelled_folder_prepares_corrupts_and_loads_without_label_keys()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "flat");
        for (var i = 0; i < 6; i++) Fixtures.WriteImage(Path.Combine(root, $"{i}.png"), Fixtures.RandomPixels(8, 8, 3, i), 8, 8, 3);
        var source = new ImageFolderSource(root);
        Assert.Null(source.Labels);
        var prepared = dir.File("flat.safetensors");
        DatasetPreparer.Run(source, prepared, new PrepareOptions(8, 3, HeldOut: 2));
        using (var file = SafeTensors.Open(prepared))
        {
            Assert.Equal(["heldout_images", "images"], file.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(["format", "provenance"], file.Metadata.Keys.Order(StringComparer.Ordinal));
            Assert.DoesNotContain("classes", file.Metadata["provenance"], StringComparison.Ordinal);
            Assert.DoesNotContain("held_out_source", file.Metadata["provenance"], StringComparison.Ordinal);
        }
        using (var data = PreparedDataset.Open(prepared))
        {
            Assert.Null(data.Labels);
            Assert.Null(data.ClassNames);
            DatasetCorruptor.Run(data, new CorruptionSpec { Mask = MaskKind.Pixel, P = 0.5 }.ToOperator(), 3, dir.File("corrupted.safetensors"));
        }
        using (var file = SafeTensors.Open(dir.File("corrupted.safetensors")))
        {
            Assert.False(file.Contains(DatasetLabels.LabelsKey));
            Assert.False(file.Metadata.ContainsKey(DatasetLabels.ClassNamesKey));
        }
        using var corrupted = CorruptedDataset.Open(dir.File("corrupted.safetensors"));
        using var loader = new CorruptedBatchLoader(corrupted, batchSize: 3, seed: 1);
        using var scope = torch.NewDisposeScope();
        Assert.Null(loader.Next().Labels);
    }

    [Fact]
    public void CelebA_attributes_give_two_to_the_k_classes()
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "celeba");
        var attributeLines = new List<string> { "6", "5_o_Clock_Shadow Male Smiling" };
        var partition = new List<string>();
        for (var i = 1; i <= 6; i++)
        {
            var name = $"{i:000000}.jpg";
            Fixtures.WriteImage(Path.Combine(root, CelebASource.ImageFolder, name), Enumerable.Repeat((byte)(30 * i), 218 * 178 * 3).ToArray(), 218, 178, 3);
            partition.Add($"{name} 0");
            // Male is bit 0 (odd images), Smiling bit 1 (images 3 to 6).
            attributeLines.Add($"{name}  -1 {(i % 2 == 1 ? " 1" : "-1")} {(i >= 3 ? " 1" : "-1")}");
        }
        File.WriteAllLines(Path.Combine(root, CelebASource.PartitionFile), partition);
        File.WriteAllLines(Path.Combine(root, CelebAAttributes.AttributeFile), attributeLines);
        var options = new PrepareOptions(16, 3, Crop: 140, HeldOut: 2, Seed: 3, CelebAAttributes: ["Male", "Smiling"]);
        DatasetPreparer.Run(new CelebASource(root), dir.File("celeba.safetensors"), options);
        using var data = PreparedDataset.Open(dir.File("celeba.safetensors"));
        Assert.Equal(["not Male+not Smiling", "Male+not Smiling", "not Male+Smiling", "Male+Smiling"], data.ClassNames);
        var image = new byte[data.ImageBytes];
        long Expected(byte value)
        {
            var i = (int)Math.Round(value / 30.0);
            return (i % 2 == 1 ? 1 : 0) | (i >= 3 ? 2 : 0);
        }
        for (var k = 0; k < data.Count; k++)
        {
            data.ReadImage(k, image);
            Assert.Equal(Expected(image[0]), data.Labels![k]);
        }
        for (var k = 0; k < data.HeldOutCount; k++)
        {
            data.ReadHeldOut(k, image);
            Assert.Equal(Expected(image[0]), data.HeldOutLabels![k]);
        }
        Assert.Equal(["not Male", "Male"], CelebAAttributes.ClassNames(["Male"]));

        var missing = Assert.Throws<InvalidDataException>(() => DatasetPreparer.Run(new CelebASource(root), dir.File("bad.safetensors"), options with { CelebAAttributes = ["Male", "Wearing_Hat"] }));
        Assert.Contains(CelebAAttributes.AttributeFile, missing.Message, StringComparison.Ordinal);
        Assert.Contains("'Wearing_Hat'", missing.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("bad.safetensors")));
    }

    [Fact]
    public void Out_of_range_labels_are_errors_naming_the_file_and_value()
    {
        using var dir = new TempDir();
        var images = FashionLikeIdx(dir, 5, i => (byte)(i == 3 ? 12 : 1));
        var e = Assert.Throws<InvalidDataException>(() => new IdxSource(images));
        Assert.Contains("train-labels-idx1-ubyte.gz", e.Message, StringComparison.Ordinal);
        Assert.Contains("label 12 of item 3", e.Message, StringComparison.Ordinal);

        using var scope = torch.NewDisposeScope();
        var path = dir.File("bad-labels.safetensors");
        SafeTensors.Save(path, new List<KeyValuePair<string, Tensor>>
        {
            new(PreparedDataset.ImagesKey, torch.zeros([4, 1, 4, 4], ScalarType.Byte)),
            new(DatasetLabels.LabelsKey, torch.tensor(new long[] { 0, 1, 2, 1 }, [4])),
        }, new Dictionary<string, string> { ["format"] = PreparedDataset.FormatName, [DatasetLabels.ClassNamesKey] = "[\"a\",\"b\"]" });
        var read = Assert.Throws<InvalidDataException>(() => PreparedDataset.Open(path));
        Assert.Contains(path, read.Message, StringComparison.Ordinal);
        Assert.Contains("labels[2] = 2", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_separate_held_out_source_supplies_the_held_out_split()
    {
        using var dir = new TempDir();
        var train = new IdxSource(FashionLikeIdx(dir, 20));
        var heldFolder = Path.Combine(dir.Path, "fashion-test");
        Directory.CreateDirectory(heldFolder);
        File.Copy(train.FilePath, Path.Combine(heldFolder, "t10k-images-idx3-ubyte.gz"));
        File.Copy(Path.Combine(Path.GetDirectoryName(train.FilePath)!, "train-labels-idx1-ubyte.gz"), Path.Combine(heldFolder, "t10k-labels-idx1-ubyte.gz"));
        var held = new IdxSource(Path.Combine(heldFolder, "t10k-images-idx3-ubyte.gz"));
        var result = DatasetPreparer.Run(train, held, dir.File("split.safetensors"), new PrepareOptions(6, 1, HeldOut: held.Count));
        Assert.Equal((20, 20), (result.Count, result.HeldOut));
        using var data = PreparedDataset.Open(dir.File("split.safetensors"));
        Assert.Equal(data.Labels, data.HeldOutLabels);
        Assert.Contains("held_out_source", data.Provenance, StringComparison.Ordinal);
    }
}
