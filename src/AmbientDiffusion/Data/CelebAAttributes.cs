namespace AmbientDiffusion.Data;

/// <summary>
/// Class labels from CelebA's <c>list_attr_celeba.txt</c> (line 1: the image count; line 2: the 40 attribute names;
/// then "000001.jpg -1 1 ..." with ±1 per attribute). k chosen attributes give 2^k classes: bit i of the class id is
/// attribute i, and a class is named by its attributes joined with '+' ("not Male", "Male+Smiling").
/// </summary>
public static class CelebAAttributes
{
    /// <summary>The attribute file's name.</summary>
    public const string AttributeFile = "list_attr_celeba.txt";

    /// <summary>At most this many attributes (2^8 = 256 classes).</summary>
    public const int MaxAttributes = 8;

    /// <summary>The names of the 2^k classes of <paramref name="attributes"/>, by class id.</summary>
    public static IReadOnlyList<string> ClassNames(IReadOnlyList<string> attributes) =>
        Enumerable.Range(0, 1 << attributes.Count)
            .Select(id => string.Join('+', attributes.Select((a, bit) => (id >> bit & 1) == 1 ? a : "not " + a)))
            .ToArray();

    /// <summary>Reads the labels of <paramref name="files"/> (image file names, as in the partition list) under <paramref name="root"/>.</summary>
    public static SourceLabels Read(string root, IReadOnlyList<string> files, IReadOnlyList<string> attributes)
    {
        var path = Path.Combine(root, AttributeFile);
        if (attributes.Count is < 1 or > MaxAttributes)
            throw new ArgumentException($"celeba attributes: {attributes.Count} given, expected 1 to {MaxAttributes}");
        if (attributes.Distinct(StringComparer.Ordinal).Count() != attributes.Count)
            throw new ArgumentException($"celeba attributes '{string.Join(',', attributes)}': an attribute is named twice");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (CelebA attribute labels need {AttributeFile} beside {CelebASource.PartitionFile})", path);
        using var reader = new StreamReader(path);
        reader.ReadLine();
        var header = (reader.ReadLine() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var columns = attributes.Select(a => Array.IndexOf(header, a) is var c and >= 0 ? c
            : throw new InvalidDataException($"{path}: no attribute '{a}' (the file has {string.Join(", ", header)})")).ToArray();
        var byFile = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 2;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != header.Length + 1)
                throw new InvalidDataException($"{path}:{lineNumber}: expected an image name and {header.Length} values, got {parts.Length - 1} values");
            var id = 0;
            for (var bit = 0; bit < columns.Length; bit++)
            {
                var value = parts[columns[bit] + 1];
                if (value is not ("1" or "-1")) throw new InvalidDataException($"{path}:{lineNumber}: attribute '{attributes[bit]}' is '{value}', expected 1 or -1");
                if (value == "1") id |= 1 << bit;
            }
            byFile[parts[0]] = id;
        }
        var ids = files.Select(f => byFile.TryGetValue(f, out var id) ? id : throw new InvalidDataException($"{path}: no attributes for image '{f}'")).ToArray();
        return new SourceLabels(ids, ClassNames(attributes));
    }

    /// <summary>Parses "Male,Smiling" into attribute names.</summary>
    public static IReadOnlyList<string> Parse(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToArray() is { Length: > 0 } names
            ? names
            : throw new ArgumentException($"celeba attributes '{text}': expected comma-separated attribute names such as Male,Smiling");
}
