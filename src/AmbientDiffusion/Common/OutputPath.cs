namespace AmbientDiffusion.Common;

/// <summary>
/// Where an output will go, checked before the work that makes it: a folder cannot be made where a file is, nor a
/// file where a folder is, nor anything below a file. Nothing is created here, so a failure later leaves no empty folder.
/// </summary>
public static class OutputPath
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="path"/> can be (or is) a folder;
    /// <paramref name="what"/> names it in the message (e.g. "--out").</summary>
    public static void CheckFolder(string path, string what)
    {
        if (File.Exists(path)) throw new ArgumentException($"{what} {path}: a file is there, and the output is a folder (remove the file or choose another folder)");
        CheckParents(path, what);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="path"/> can be written as a file.</summary>
    public static void CheckFile(string path, string what)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{what} {path}: a folder is there, and the output is a file (name a file, e.g. {Path.Combine(path, "out.safetensors")})");
        CheckParents(path, what);
    }

    private static void CheckParents(string path, string what)
    {
        for (var parent = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent)) return;
            if (File.Exists(parent)) throw new ArgumentException($"{what} {path}: {parent} is a file, so nothing can be written below it");
        }
    }
}
