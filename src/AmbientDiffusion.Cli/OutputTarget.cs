using System.CommandLine;
using AmbientDiffusion.Common;

namespace AmbientDiffusion.Cli;

/// <summary>
/// The one rule for what a command writes (<c>-o</c>): an output that exists is refused, naming it, unless
/// <c>--overwrite</c>, which replaces it whole; old and new files never mix. A folder output is written into a
/// temporary sibling (<see cref="WritePath"/>) and swapped in by <see cref="Commit"/>; a file output is only checked
/// (<see cref="File"/>): the domain's writers already write a temporary sibling and rename it over the file.
/// Claim the output before any work, so a refusal costs nothing; dispose it to remove an uncommitted staging folder.
/// A folder output is also locked (<see cref="DirectoryLock"/>, its <c>.lock</c> file) from the claim to the end, so a
/// second writer of the same folder is refused naming the first, and a folder holding nothing but a released lock
/// file counts as empty. Subfolders that other commands write inside this output (a run's report/ holds evaluate's
/// <c>evaluation/</c>) are named as <c>nested</c>: they are neither counted as this command's output nor replaced, and
/// move into the new folder when it is swapped in.
/// </summary>
internal sealed class OutputTarget : IDisposable
{
    private readonly bool _overwrite;
    private readonly DirectoryLock? _lock;
    private readonly bool _created;
    private readonly bool _lockFileCreated;
    private readonly IReadOnlyCollection<string> _nested;
    private bool _committed;

    private OutputTarget(string path, string writePath, bool overwrite, DirectoryLock? held = null, bool created = false, bool lockFileCreated = false,
        IReadOnlyCollection<string>? nested = null)
    {
        _nested = nested ?? [];
        Path = path;
        WritePath = writePath;
        _overwrite = overwrite;
        _lock = held;
        _created = created;
        _lockFileCreated = lockFileCreated;
    }

    /// <summary>The output as the user named it.</summary>
    public string Path { get; }

    /// <summary>Where the command writes: a staging sibling of <see cref="Path"/>, created by the writer.</summary>
    public string WritePath { get; }

    /// <summary>The <c>--overwrite</c> option of every command with an output.</summary>
    public static Option<bool> OverwriteOption() => new("--overwrite") { Description = "Replace the output if it exists (it is replaced whole, never mixed with old files); without it an existing output is an error." };

    /// <summary>Claims a folder output: refused if it is a file, or a non-empty folder without <paramref name="overwrite"/>.
    /// <paramref name="nested"/> names subfolders that belong to other commands' outputs: kept as they are.</summary>
    public static OutputTarget Folder(string path, bool overwrite, IReadOnlyCollection<string>? nested = null)
    {
        nested ??= [];
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.File.Exists(full)) throw new UserErrorException($"{path}: is a file; the output must be a folder");
        var parent = System.IO.Path.GetDirectoryName(full) ?? full;
        EnsureWritable(path, parent);
        var created = !Directory.Exists(full);
        var lockFileCreated = !DirectoryLock.HasLockFile(full);
        var held = DirectoryLock.Acquire(full);
        if (HasOutput(full, nested) && !overwrite)
        {
            // A refusal changes nothing: the lock file (and the folder) this claim made go again.
            if (lockFileCreated) held.ReleaseAndRemove(folderToo: created);
            else held.Dispose();
            throw new UserErrorException($"{path}: the output folder exists and is not empty; pass --overwrite to replace it whole, or choose another output");
        }
        var staging = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
        return new OutputTarget(full, staging, overwrite, held, created, lockFileCreated, nested);
    }

    /// <summary>Whether a folder holds anything besides a lock file and other commands' nested outputs.</summary>
    private static bool HasOutput(string folder, IReadOnlyCollection<string> nested) =>
        Directory.EnumerateFileSystemEntries(folder).Any(e => System.IO.Path.GetFileName(e) is var name && name != DirectoryLock.FileName && !nested.Contains(name));

    /// <summary>Checks a file output and returns its full path: refused if it is a folder, or an existing file without
    /// <paramref name="overwrite"/>. The domain's writers replace a file atomically, so nothing more is needed.</summary>
    public static string File(string path, bool overwrite)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UserErrorException($"{path}: is a folder; the output must be a file name");
        if (System.IO.File.Exists(full) && !overwrite)
            throw new UserErrorException($"{path}: the output file exists; pass --overwrite to replace it, or choose another name");
        EnsureWritable(path, System.IO.Path.GetDirectoryName(full) ?? full);
        return full;
    }

    /// <summary>Fails now, before any work, if the output's folder cannot be written (read-only, no permission):
    /// a probe file is created there and removed. A full disk still shows only when the output is written.</summary>
    private static void EnsureWritable(string path, string parent)
    {
        try
        {
            Directory.CreateDirectory(parent);
            var probe = System.IO.Path.Combine(parent, $".ambient-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: the output cannot be written there: {ErrorReport.OneLine(e)}", e) { HResult = e.HResult };
        }
    }

    /// <summary>Puts the finished output in place: a folder's staging sibling replaces the old folder whole. A staging
    /// folder that was never written (a worker that leaves the writing to rank 0) leaves the output untouched.</summary>
    public void Commit()
    {
        _committed = true;
        if (!Directory.Exists(WritePath)) return;
        if (!Directory.Exists(Path))
        {
            Directory.Move(WritePath, Path);
            return;
        }
        // Checked again: a writer that ignores the lock may have filled the folder while this one worked.
        if (HasOutput(Path, _nested) && !_overwrite)
            throw new UserErrorException($"{Path}: the output folder was filled by someone else while this command ran; its output is left in {WritePath}");
        var old = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, $".{System.IO.Path.GetFileName(Path)}.old-{Environment.ProcessId}-{Guid.NewGuid():N}");
        // Other commands' nested outputs move into the new folder first (a rename each), and back if the swap fails.
        var moved = _nested.Where(name => Directory.Exists(System.IO.Path.Combine(Path, name)) && !System.IO.Path.Exists(System.IO.Path.Combine(WritePath, name))).ToList();
        foreach (var name in moved) Directory.Move(System.IO.Path.Combine(Path, name), System.IO.Path.Combine(WritePath, name));
        try
        {
            Directory.Move(Path, old);
        }
        catch
        {
            foreach (var name in moved) Directory.Move(System.IO.Path.Combine(WritePath, name), System.IO.Path.Combine(Path, name));
            throw;
        }
        try
        {
            Directory.Move(WritePath, Path);
        }
        catch
        {
            Directory.Move(old, Path);
            foreach (var name in moved) Directory.Move(System.IO.Path.Combine(WritePath, name), System.IO.Path.Combine(Path, name));
            throw;
        }
        Directory.Delete(old, recursive: true);
    }

    /// <summary>Removes the staging folder of an output that was not committed (the command failed or was cancelled).</summary>
    public void Dispose()
    {
        // The swap moved the locked folder aside (the lock goes with its file); releasing it lets the next writer in.
        // Without a commit the output stays as it was: the lock file (and the folder) this claim made go again.
        if (!_committed && _lockFileCreated) _lock?.ReleaseAndRemove(folderToo: _created);
        else _lock?.Dispose();
        if (_committed || !Directory.Exists(WritePath)) return;
        TryDelete(WritePath);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that stopped the command is the one worth reporting.
        }
    }
}
