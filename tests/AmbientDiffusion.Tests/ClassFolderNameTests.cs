using AmbientDiffusion.Classification;
using AmbientDiffusion.Cli;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Sampling;

namespace AmbientDiffusion.Tests;

/// <summary>Issue 22 item 11: class names survive synthesize → folder → prepare / cas / represent.</summary>
public class ClassFolderNameTests
{
    private static int Ambient(params string[] args) => CommandRunner.Run(AmbientCli.CreateRoot(), args);

    public static readonly TheoryData<string> AwkwardNames = new()
    {
        "T-shirt/top", "Ankle boot", "100%", "50%2F", "%41", "a\\b", "a:b*c?\"d\"<e>|f", "tab\there", "Ünïcödé 猫",
        "emoji 🐈", " leading space", "trailing space ", ".hidden", "..", ".", "trailing dot.", "CON", "nul.txt", "COM1",
        "Ärger/Über%",
    };

    [Theory]
    [MemberData(nameof(AwkwardNames))]
    public void An_awkward_class_name_becomes_a_plain_folder_name_and_decodes_back(string name)
    {
        var folder = ClassFolderNames.Encode(name);
        Assert.Equal(name, ClassFolderNames.Decode(folder));
        Assert.DoesNotContain(folder, c => c is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(c));
        Assert.False(folder.StartsWith('.') || folder.StartsWith(' ') || folder.EndsWith('.') || folder.EndsWith(' '), folder);
    }

    [Theory]
    [InlineData("Trouser")]
    [InlineData("class_3")]
    [InlineData("Ünïcödé 猫")]
    [InlineData("100%")] // a '%' not followed by two hex digits is a plain character
    [InlineData("50% off")]
    [InlineData("%zz")]
    public void Folders_without_escapes_read_as_their_own_names(string folder) => Assert.Equal(folder, ClassFolderNames.Decode(folder));

    [Fact]
    public void Plain_names_are_their_own_folders_and_escapes_that_are_not_utf8_read_as_they_are()
    {
        Assert.Equal(["Trouser", "Ünïcödé 猫", "T-shirt%2Ftop", "%25"], ClassFolderNames.For(["Trouser", "Ünïcödé 猫", "T-shirt/top", "%"]));
        Assert.Equal("%FF%FE", ClassFolderNames.Decode("%FF%FE"));
    }

    [Fact]
    public void Names_that_differ_only_in_case_get_folders_that_differ_on_case_insensitive_file_systems()
    {
        var folders = ClassFolderNames.For(["Cat", "cat", "Dog", "ÉTÉ", "été"]);
        Assert.Equal("Dog", folders[2]);
        Assert.Equal(5, folders.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(["Cat", "cat", "Dog", "ÉTÉ", "été"], folders.Select(ClassFolderNames.Decode));
    }

    [Fact]
    public void Names_that_cannot_be_folders_are_refused_with_the_name()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ClassFolderNames.Encode("")).Message, StringComparison.Ordinal);
        Assert.Contains("'a' appears 2 times", Assert.Throws<ArgumentException>(() => ClassFolderNames.For(["a", "a"])).Message, StringComparison.Ordinal);
        Assert.Contains("shorten", Assert.Throws<ArgumentException>(() => ClassFolderNames.Encode(new string('/', 100))).Message, StringComparison.Ordinal);
    }

    /// <summary>One 8×8 grey PNG per class folder of <paramref name="names"/>, two images each, the folders named as synthesize names them.</summary>
    private static string ClassTree(TempDir dir, IReadOnlyList<string> names, string root = "tree")
    {
        var path = dir.File(root);
        foreach (var (name, folder) in SyntheticExport.ClassFolders(names, names.Count))
            for (var i = 0; i < 2; i++)
                Fixtures.WriteImage(Path.Combine(path, folder, $"{i}.png"), Fixtures.RandomPixels(8, 8, 1, name.Length + i), 8, 8, 1);
        return path;
    }

    [Fact]
    public void Class_folders_read_back_as_their_names_in_prepare_cas_and_represent()
    {
        using var dir = new TempDir();
        string[] names = ["T-shirt/top", "100%", "Ünïcödé 猫", ".hidden", "a b ", "Cat", "cat"];
        var tree = ClassTree(dir, names);
        var expected = names.Order(StringComparer.Ordinal).ToArray();
        // The reader prepare uses.
        Assert.Equal(expected, new ImageFolderSource(tree).Labels!.ClassNames);
        // cas and represent read a synthetic folder without synthetic.npz as this tree.
        var set = CasImageSet.ReadSynthetic(tree);
        Assert.Equal(expected, set.ClassNames);
        Assert.Equal(names.Length * 2, set.Count);
        // prepare writes the names into the dataset.
        var prepared = dir.File("prepared.safetensors");
        Assert.Equal(0, Ambient("prepare", tree, "-r", "8", "-o", prepared));
        using var dataset = PreparedDataset.Open(prepared);
        Assert.Equal(expected, dataset.ClassNames);
    }

    [Fact]
    public void Two_folders_that_decode_to_one_class_are_refused_naming_both()
    {
        using var dir = new TempDir();
        var tree = ClassTree(dir, ["T-shirt/top", "Trouser"]);
        Fixtures.WriteImage(Path.Combine(tree, "T-shirt%2ftop", "0.png"), Fixtures.RandomPixels(8, 8, 1, 9), 8, 8, 1);
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderSource(tree));
        Assert.Contains("T-shirt%2Ftop", e.Message, StringComparison.Ordinal);
        Assert.Contains("T-shirt%2ftop", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_synthesized_dataset_reads_back_with_the_checkpoint_class_names_from_its_folders_alone()
    {
        using var dir = new TempDir();
        var prepared = ConditionalData.Prepared(dir, 16);
        // Rename the two classes to awkward names in the prepared file's metadata, as Fashion-MNIST's "T-shirt/top".
        string[] names = ["T-shirt/top", ".50% ünï"];
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = AmbientDiffusion.Torch.IO.SafeTensors.Load(prepared);
            Dictionary<string, string> metadata;
            using (var file = AmbientDiffusion.Torch.IO.SafeTensors.Open(prepared)) metadata = file.Metadata.ToDictionary(p => p.Key, p => p.Value);
            metadata[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(names);
            AmbientDiffusion.Torch.IO.SafeTensors.Save(prepared, tensors, metadata);
        }
        ConditionalData.Train(dir, ConditionalData.Corrupted(dir, prepared), duration: 0.016);
        var output = dir.File("synthetic");
        Assert.Equal(0, Ambient("synthesize", dir.File("run"), "--per-class", "1", "--steps", "2", "-o", output));
        File.Delete(Path.Combine(output, SyntheticManifest.NumpyFile));
        Assert.Equal(names.Order(StringComparer.Ordinal), CasImageSet.ReadSynthetic(output).ClassNames);
    }
}
