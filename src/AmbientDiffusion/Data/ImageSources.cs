namespace AmbientDiffusion.Data;

/// <summary>Opens the image source a user names: a folder, a CelebA folder, an IDX file or Debian's Fashion-MNIST.</summary>
public static class ImageSources
{
    /// <summary>
    /// <paramref name="source"/> is a folder of images, a CelebA folder (img_align_celeba/ + list_eval_partition.txt),
    /// an IDX file, or <c>fashion-mnist[:train|:test]</c>; <paramref name="format"/> is auto, folder, celeba or idx.
    /// </summary>
    public static ImageSource Open(string source, string format = "auto", string? partition = null)
    {
        if (source.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase))
        {
            var split = source.Length > "fashion-mnist".Length ? source["fashion-mnist".Length..] : ":train";
            return split switch
            {
                ":train" => IdxSource.FashionMnist(train: true),
                ":test" => IdxSource.FashionMnist(train: false),
                _ => throw new ArgumentException($"source '{source}': expected fashion-mnist, fashion-mnist:train or fashion-mnist:test"),
            };
        }
        if (partition is not null && format is not ("auto" or "celeba"))
            throw new ArgumentException("a partition applies to CelebA sources only");
        return format switch
        {
            "idx" => new IdxSource(source),
            "celeba" => new CelebASource(source, partition),
            "folder" => new ImageFolderSource(source),
            "auto" when File.Exists(source) => new IdxSource(source),
            "auto" when CelebASource.IsCelebA(source) => new CelebASource(source, partition),
            "auto" when partition is not null => throw new ArgumentException($"a partition needs a CelebA folder; {source} has no {CelebASource.PartitionFile}"),
            "auto" => new ImageFolderSource(source),
            _ => throw new ArgumentException($"format '{format}': expected auto, folder, celeba or idx"),
        };
    }
}
