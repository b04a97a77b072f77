using AmbientDiffusion.Cli;

namespace AmbientDiffusion.Tests;

/// <summary>The output rule: an existing output is refused, or replaced whole with --overwrite; never mixed.</summary>
public class OutputTargetTests
{
    private static string[] Entries(string folder) => Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void A_non_empty_folder_is_refused_without_overwrite_and_replaced_whole_with_it()
    {
        using var dir = new TempDir();
        var output = dir.File("out");
        Directory.CreateDirectory(Path.Combine(output, "old-class"));
        File.WriteAllText(Path.Combine(output, "old-class", "0.png"), "old");
        File.WriteAllText(Path.Combine(output, "manifest.json"), "old");

        var refusal = Assert.Throws<UserErrorException>(() => OutputTarget.Folder(output, overwrite: false));
        Assert.Contains(output, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("--overwrite", refusal.Message, StringComparison.Ordinal);

        using (var target = OutputTarget.Folder(output, overwrite: true))
        {
            // Until the commit the old output stays whole; the claim holds the folder's lock file beside it.
            Directory.CreateDirectory(target.WritePath);
            File.WriteAllText(Path.Combine(target.WritePath, "manifest.json"), "new");
            Assert.Equal([AmbientDiffusion.Common.DirectoryLock.FileName, "manifest.json", "old-class"], Entries(output));
            target.Commit();
        }
        Assert.Equal(["manifest.json"], Entries(output));
        Assert.Equal("new", File.ReadAllText(Path.Combine(output, "manifest.json")));
        Assert.Equal(["out"], Entries(dir.Path));
    }

    [Fact]
    public void Replacing_a_report_keeps_the_outputs_other_commands_wrote_inside_it()
    {
        // A run's report/ holds evaluate's evaluation/ and the attacks' membership/: `memorization --overwrite`
        // replaces its own files and must not delete theirs (they were lost before the nested folders were named).
        using var dir = new TempDir();
        var output = dir.File("report");
        Directory.CreateDirectory(Path.Combine(output, "evaluation", "classifier"));
        File.WriteAllText(Path.Combine(output, "evaluation", "classifier", "metrics.json"), "evaluation");
        File.WriteAllText(Path.Combine(output, "report.json"), "old");
        string[] nested = ["evaluation", "membership"];

        using (var target = OutputTarget.Folder(output, overwrite: true, nested))
        {
            Directory.CreateDirectory(target.WritePath);
            File.WriteAllText(Path.Combine(target.WritePath, "report.json"), "new");
            target.Commit();
        }
        Assert.Equal(["evaluation", "report.json"], Entries(output));
        Assert.Equal("new", File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal("evaluation", File.ReadAllText(Path.Combine(output, "evaluation", "classifier", "metrics.json")));
        Assert.Equal(["report"], Entries(dir.Path));

        // A folder holding only other commands' outputs is no output of this one: written without --overwrite.
        File.Delete(Path.Combine(output, "report.json"));
        using (var target = OutputTarget.Folder(output, overwrite: false, nested))
        {
            Directory.CreateDirectory(target.WritePath);
            File.WriteAllText(Path.Combine(target.WritePath, "report.json"), "first");
            target.Commit();
        }
        Assert.Equal(["evaluation", "report.json"], Entries(output));
        Assert.Equal("evaluation", File.ReadAllText(Path.Combine(output, "evaluation", "classifier", "metrics.json")));
    }

    [Fact]
    public void A_failed_command_leaves_the_old_output_and_no_staging_folder()
    {
        using var dir = new TempDir();
        var output = dir.File("out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "a.txt"), "old");
        using (var target = OutputTarget.Folder(output, overwrite: true))
        {
            Directory.CreateDirectory(target.WritePath);
            File.WriteAllText(Path.Combine(target.WritePath, "half.txt"), "new");
        }
        Assert.Equal(["a.txt"], Entries(output));
        Assert.Equal(["out"], Entries(dir.Path));
    }

    [Fact]
    public void An_empty_or_missing_folder_is_written_and_a_file_is_never_taken_for_a_folder()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "empty", Path.Combine("missing", "deeper") })
        {
            var output = dir.File(name);
            if (name == "empty") Directory.CreateDirectory(output);
            using var target = OutputTarget.Folder(output, overwrite: false);
            Directory.CreateDirectory(target.WritePath);
            File.WriteAllText(Path.Combine(target.WritePath, "x"), "");
            target.Commit();
            Assert.Equal(["x"], Entries(output));
        }
        File.WriteAllText(dir.File("file"), "");
        Assert.Throws<UserErrorException>(() => OutputTarget.Folder(dir.File("file"), overwrite: true));
        Assert.Throws<UserErrorException>(() => OutputTarget.File(dir.File("empty"), overwrite: true));
        Assert.Throws<UserErrorException>(() => OutputTarget.File(dir.File("file"), overwrite: false));
        Assert.Equal(Path.GetFullPath(dir.File("file")), OutputTarget.File(dir.File("file"), overwrite: true));
        // An output whose folder cannot be made is refused before any work, as an environment error naming it.
        var under = Path.Combine(dir.File("file"), "out.safetensors");
        var refusal = Assert.ThrowsAny<IOException>(() => OutputTarget.File(under, overwrite: false));
        Assert.Contains(under, refusal.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.Environment, ErrorReport.Classify(refusal));
        Assert.Equal(["empty", "file", "missing"], Entries(dir.Path));
    }
}
