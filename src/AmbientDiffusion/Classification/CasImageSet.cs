using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>
/// Labelled uint8 images [N, C, H, W] (CPU, in the caller's dispose scope) for the Classification Accuracy Score and
/// the representation probe: a synthetic set (with the optional generation groups) or real images from an image source.
/// </summary>
/// <param name="Images">uint8 [N, C, H, W].</param>
/// <param name="Labels">Class id of each image, an index into <paramref name="ClassNames"/>.</param>
/// <param name="Groups">Generation group of each image (images made from nearby starting noises of one base noise), or null.</param>
/// <param name="ClassNames">Class names, indexed by id.</param>
/// <param name="Description">What the images are, for reports.</param>
public sealed record CasImageSet(Tensor Images, long[] Labels, long[]? Groups, IReadOnlyList<string> ClassNames, string Description)
{
    /// <summary>The manifest key of the classes as <c>ambient synthesize</c> writes them: a list of <c>{"id", "name", ...}</c> objects.</summary>
    public const string ManifestClassesKey = "classes";

    /// <summary>The manifest key of a plain list of class names indexed by label id (accepted when there is no <see cref="ManifestClassesKey"/>).</summary>
    public const string ManifestClassNamesKey = "class_names";

    /// <summary>Images.</summary>
    public int Count => Labels.Length;

    /// <summary>The image shape.</summary>
    public ClassifierGeometry Geometry => new((int)Images.shape[1], (int)Images.shape[2], (int)Images.shape[3]);

    /// <summary>
    /// Reads a synthetic folder: <c>synthetic.npz</c> (<c>images</c> uint8 [N, H, W, C], <c>labels</c> int64 [N],
    /// optional <c>groups</c> int64 [N]) with class names from <c>manifest.json</c> (its <c>classes</c>), or, without the npz, the folder as a
    /// labelled ImageFolder tree (one sub-folder per class).
    /// </summary>
    public static CasImageSet ReadSynthetic(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"{directory}: no such directory (expected a folder from `ambient synthesize` or an image folder with one sub-folder per class)");
        var npz = Path.Combine(directory, SyntheticManifest.NumpyFile);
        return File.Exists(npz) ? ReadNpz(directory, npz) : ReadFolder(directory);
    }

    private static CasImageSet ReadNpz(string directory, string npz)
    {
        var arrays = NpzReader.Read(npz);
        NpzReader.Array Require(string key) => arrays.TryGetValue(key, out var a) ? a : throw new InvalidDataException($"{npz}: no '{key}' array (has {string.Join(", ", arrays.Keys)})");
        var images = Require("images");
        if (images.Dtype != "|u1" || images.Shape is not [var n, var h, var w, var c] || c is not (1 or 3))
            throw new InvalidDataException($"{npz}: 'images' is {images.Dtype} ({string.Join(", ", images.Shape)}), expected uint8 (N, H, W, C) with C 1 or 3");
        if (n == 0) throw new InvalidDataException($"{npz}: 'images' holds no images");
        var labels = ReadVector(Require("labels"), n, npz);
        var groups = arrays.TryGetValue("groups", out var g) ? ReadVector(g, n, npz) : null;
        var names = ManifestClassNames(Path.Combine(directory, SyntheticManifest.FileName));
        for (var i = 0; i < labels.Length; i++)
            if ((ulong)labels[i] >= (ulong)names.Count)
                throw new InvalidDataException($"{npz}: labels[{i}] = {labels[i]} is out of range (expected 0 to {names.Count - 1}, one per class name of {SyntheticManifest.FileName})");
        var tensor = torch.tensor(images.Data, [n, h, w, c]).permute(0, 3, 1, 2).contiguous();
        return new CasImageSet(tensor, labels, groups, names, $"{n} synthetic images of {npz}");
    }

    private static long[] ReadVector(NpzReader.Array array, long count, string npz)
    {
        if (array.Shape is not [var n] || n != count)
            throw new InvalidDataException($"{npz}: '{array.Name}' has shape ({string.Join(", ", array.Shape)}), expected ({count},) (one per image)");
        return array.ToInt64(npz);
    }

    /// <summary>
    /// The class names of the npz labels: the manifest's <c>classes</c> list of <c>{"id", "name"}</c> objects (as
    /// <c>ambient synthesize</c> writes it), or a plain <c>class_names</c> list of strings indexed by label.
    /// </summary>
    private static IReadOnlyList<string> ManifestClassNames(string manifest)
    {
        if (!File.Exists(manifest))
            throw new FileNotFoundException($"{manifest}: no such file (it names the classes of the npz labels: '{ManifestClassesKey}' or '{ManifestClassNamesKey}')", manifest);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var root = document.RootElement;
            string[] names;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(ManifestClassesKey, out var classes) && classes.ValueKind == JsonValueKind.Array)
                names = ClassesById(classes, manifest);
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(ManifestClassNamesKey, out var list) && list.ValueKind == JsonValueKind.Array)
                names = list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new InvalidDataException($"{manifest}: '{ManifestClassNamesKey}' holds {e.ValueKind}, expected strings")).ToArray();
            else throw new InvalidDataException($"{manifest}: no '{ManifestClassesKey}' list of {{\"id\", \"name\"}} objects and no '{ManifestClassNamesKey}' list (the class names of the labels)");
            return names.Length >= 2 ? names : throw new InvalidDataException($"{manifest}: {names.Length} class names, expected at least 2");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{manifest}: not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Names indexed by id from <c>[{"id": 0, "name": "..."}, ...]</c>; the ids must be 0 … K−1, each once.</summary>
    private static string[] ClassesById(JsonElement classes, string manifest)
    {
        var entries = classes.EnumerateArray().Select(e =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("id", out var id) && id.TryGetInt32(out var k) && e.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                ? (Id: k, Name: name.GetString()!)
                : throw new InvalidDataException($"{manifest}: '{ManifestClassesKey}' entry {e} lacks an integer 'id' or a string 'name'")).ToList();
        var names = new string[entries.Count];
        foreach (var (id, name) in entries)
        {
            if ((uint)id >= (uint)names.Length || names[id] is not null)
                throw new InvalidDataException($"{manifest}: '{ManifestClassesKey}' ids must be 0 to {names.Length - 1}, each once; found id {id} ({name})");
            names[id] = name;
        }
        return names;
    }

    private static CasImageSet ReadFolder(string directory)
    {
        var source = new ImageFolderSource(directory);
        var labels = source.Labels ?? throw new InvalidDataException($"{directory}: no {SyntheticManifest.NumpyFile} and no class sub-folders (expected one sub-folder per class, at least two)");
        var first = source.Decode(0, source.ReadRaw(0), 0);
        var channels = first.Channels >= 3 ? 3 : 1;
        var chw = Decode(source, Enumerable.Range(0, source.Count).ToArray(), channels, (first.Height, first.Width));
        var images = Stack(chw, channels, first.Height, first.Width);
        return new CasImageSet(images, labels.Ids.Select(i => (long)i).ToArray(), null, labels.ClassNames, $"{source.Count} images of {source.Description}");
    }

    /// <summary>
    /// Reads labelled real images from <paramref name="sourceName"/> (anything <see cref="ImageSources.Open"/> opens)
    /// at the given geometry (grey images are repeated to RGB; square images of another size are resized by area
    /// averaging as <c>prepare</c> does). With <paramref name="count"/> below the source's size, a subset: the first
    /// <paramref name="count"/> of a permutation seeded by <paramref name="seed"/>, back in source order; otherwise every
    /// image, in source order (the caller checks the count it got when it needs exactly as many).
    /// </summary>
    public static CasImageSet ReadReal(string sourceName, ClassifierGeometry geometry, int? count = null, ulong seed = 0)
    {
        var source = ImageSources.Open(sourceName);
        var labels = source.Labels ?? throw new InvalidDataException($"{source.Description}: has no class labels (expected class sub-folders, an IDX file with its labels file, or fashion-mnist)");
        int[] indices;
        if (count is { } wanted && wanted < source.Count)
        {
            if (wanted < 1) throw new ArgumentException($"{source.Description}: {wanted} images asked for, expected at least 1");
            indices = RandomStreams.For(RandomStream.CasRealSubset, seed).Permutation(source.Count).Take(wanted).Order().ToArray();
        }
        else indices = Enumerable.Range(0, source.Count).ToArray();
        var chw = Decode(source, indices, geometry.Channels, (geometry.Height, geometry.Width));
        var images = Stack(chw, geometry.Channels, geometry.Height, geometry.Width);
        return new CasImageSet(images, indices.Select(i => (long)labels.Ids[i]).ToArray(), null, labels.ClassNames, $"{indices.Length} images of {source.Description}");
    }

    /// <summary>Decodes the items into CHW bytes of the given size (resizing square images when the sizes differ).</summary>
    private static List<byte[]> Decode(ImageSource source, int[] indices, int channels, (int Height, int Width) size)
    {
        var square = size.Height == size.Width ? new SquareTransform(size.Height) : null;
        var result = new byte[indices.Length][];
        try
        {
            Parallel.For(0, indices.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => result[i] = DecodeOne(source, indices[i], channels, size, square));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The first bad image's own error (it names the file), not the parallel loop's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return [.. result];
    }

    private static byte[] DecodeOne(ImageSource source, int index, int channels, (int Height, int Width) size, SquareTransform? square)
    {
        var image = source.Decode(index, source.ReadRaw(index), channels);
        if (image.Height == size.Height && image.Width == size.Width) return ToChw(image);
        if (square is not null && image.Height == image.Width) return square.Apply(image, source.ItemName(index));
        throw new InvalidDataException($"{source.ItemName(index)}: image is {image.Width}x{image.Height}, expected {size.Width}x{size.Height} (the other set's size)");
    }

    private static unsafe Tensor Stack(List<byte[]> images, int channels, int height, int width)
    {
        var perImage = channels * height * width;
        var tensor = torch.empty([images.Count, channels, height, width], ScalarType.Byte);
        var destination = (byte*)tensor.data_ptr();
        for (var i = 0; i < images.Count; i++) images[i].CopyTo(new Span<byte>(destination + (long)i * perImage, perImage));
        return tensor;
    }

    private static byte[] ToChw(DecodedImage image)
    {
        var (h, w, c) = (image.Height, image.Width, image.Channels);
        var chw = new byte[image.Pixels.Length];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                for (var k = 0; k < c; k++) chw[(k * h + y) * w + x] = image.Pixels[(y * w + x) * c + k];
        return chw;
    }

    /// <summary>
    /// This set with its labels re-indexed into <paramref name="classNames"/> (another set's classes), matched by name;
    /// the two sets must have the same classes.
    /// </summary>
    public CasImageSet WithClassesOf(IReadOnlyList<string> classNames, string otherDescription)
    {
        var missing = classNames.Except(ClassNames, StringComparer.Ordinal).ToList();
        var extra = ClassNames.Except(classNames, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidDataException($"{Description}: classes do not match {otherDescription}'s by name" +
                (missing.Count > 0 ? $"; missing here: {string.Join(", ", missing)}" : "") +
                (extra.Count > 0 ? $"; not in {otherDescription}: {string.Join(", ", extra)}" : "") +
                $" (here: {string.Join(", ", ClassNames)}; there: {string.Join(", ", classNames)})");
        var map = ClassNames.Select(n => (long)classNames.ToList().IndexOf(n)).ToArray();
        return this with { Labels = Labels.Select(l => map[l]).ToArray(), ClassNames = classNames };
    }
}
