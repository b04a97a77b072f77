using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace AmbientDiffusion.Common;

/// <summary>Another live process writes to the folder; the message names it (pid, host, start time) and the lock file.</summary>
public sealed class DirectoryInUseException(string message, string directory, string lockFile) : IOException(message)
{
    /// <summary>The folder that is in use.</summary>
    public string Directory { get; } = directory;

    /// <summary>Its lock file.</summary>
    public string LockFile { get; } = lockFile;
}

/// <summary>Who holds a <see cref="DirectoryLock"/>: written into the lock file so that a second writer can name it.</summary>
public sealed record DirectoryLockHolder(int Pid, string Host, DateTime Since)
{
    /// <summary>"pid 1234 on host h since 2026-12-07T05:30:00Z".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"pid {Pid} on host {Host} since {Since:yyyy-MM-ddTHH:mm:ssZ}");
}

/// <summary>
/// One writer at a time for a folder (a run directory, the output folder of synthesize, sweep or loop):
/// <c>&lt;folder&gt;/.lock</c>, held with flock(2) for as long as this object lives. flock rather than a pid file
/// because the kernel releases it when the holder dies however it dies (kill -9, OOM, a crash), so a dead holder never
/// blocks and nothing has to guess whether a recorded pid is still the same process. The file records the holder
/// (<see cref="DirectoryLockHolder"/>) for the second writer's message; it stays behind, emptied, when released
/// (deleting it would let a third writer lock a new file while a second still holds the unlinked one).
/// On a file system without flock (Lustre mounted noflock, NFS without a lock manager) the recorded holder decides:
/// a live process on this host, or any process on another host, holds the folder.
/// Two locks of one folder conflict also within one process.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside the folder.</summary>
    public const string FileName = ".lock";

    private readonly SafeFileHandle _handle;

    private DirectoryLock(string directory, string file, SafeFileHandle handle, DirectoryLockHolder holder) =>
        (Directory, File, _handle, Holder) = (directory, file, handle, holder);

    /// <summary>The locked folder, as it was named.</summary>
    public string Directory { get; }

    /// <summary>The lock file.</summary>
    public string File { get; }

    /// <summary>This process, as recorded in the lock file.</summary>
    public DirectoryLockHolder Holder { get; }

    /// <summary>Creates <paramref name="directory"/> if needed and locks it; throws <see cref="DirectoryInUseException"/>
    /// naming the holder when another writer (in this or another process) has it. Never waits.</summary>
    public static DirectoryLock Acquire(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, FileName);
        var fd = Open(file, ReadWrite | Create | CloseOnExec, 0b110_100_100 /* 0644 */);
        if (fd < 0) throw new IOException($"{file}: cannot open the lock file ({Marshal.GetLastPInvokeErrorMessage()})");
        var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        try
        {
            if (Flock(fd, LockExclusive | LockNonBlocking) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == WouldBlock) throw InUse(directory, file, ReadHolder(handle, wait: true));
                if (errno is not (NoLocks or NotSupported or NotImplemented))
                    throw new IOException($"{file}: cannot lock ({Marshal.GetPInvokeErrorMessage(errno)})");
                // No flock here: the recorded holder is all there is to go by.
                if (ReadHolder(handle, wait: false) is { } recorded && IsAlive(recorded)) throw InUse(directory, file, recorded);
            }
            var holder = new DirectoryLockHolder(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(new { pid = holder.Pid, host = holder.Host, since = holder.Since.ToString("O", CultureInfo.InvariantCulture) });
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, bytes, 0);
            return new DirectoryLock(directory, file, handle, holder);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The holder recorded in <paramref name="directory"/>'s lock file, or null (no file, or released).</summary>
    public static DirectoryLockHolder? RecordedHolder(string directory)
    {
        var file = Path.Combine(directory, FileName);
        var fd = Open(file, ReadOnly | CloseOnExec, 0);
        if (fd < 0) return null;
        using var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        return ReadHolder(handle, wait: false);
    }

    private static DirectoryInUseException InUse(string directory, string file, DirectoryLockHolder? holder) =>
        new($"{directory} is in use by {(holder?.ToString() ?? "another process")} ({file})", directory, file);

    /// <summary>The recorded holder. A holder that has just locked may not have written itself yet, so
    /// <paramref name="wait"/> gives it a moment.</summary>
    private static DirectoryLockHolder? ReadHolder(SafeFileHandle handle, bool wait)
    {
        for (var attempt = 0; ; attempt++)
        {
            var holder = Parse(handle);
            if (holder is not null || !wait || attempt >= 20) return holder;
            Thread.Sleep(10);
        }
    }

    // The file is read through the descriptor: .NET's own file opening takes a shared flock, which the holder's
    // exclusive one refuses.
    private static DirectoryLockHolder? Parse(SafeFileHandle handle)
    {
        var buffer = new byte[4096];
        var length = RandomAccess.Read(handle, buffer, 0);
        if (length == 0) return null;
        try
        {
            using var json = JsonDocument.Parse(buffer.AsMemory(0, length));
            var root = json.RootElement;
            return new DirectoryLockHolder(root.GetProperty("pid").GetInt32(), root.GetProperty("host").GetString() ?? "?",
                DateTime.Parse(root.GetProperty("since").GetString() ?? "", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null; // half written, or not ours: nobody to name
        }
    }

    /// <summary>Without flock: a process on another host cannot be checked, so it counts as alive.</summary>
    private static bool IsAlive(DirectoryLockHolder holder) =>
        holder.Host != Environment.MachineName || System.IO.Directory.Exists(Path.Combine("/proc", holder.Pid.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// For a writer that failed before writing anything: removes the lock file it created, and the folder too when
    /// <paramref name="folderToo"/> (the writer created it) and nothing else is in it, then releases the lock, so that
    /// a refused command leaves no trace. Removing the file while still holding it is safe here: this writer does
    /// nothing more, and a writer arriving now locks a new file.
    /// </summary>
    public void ReleaseAndRemove(bool folderToo)
    {
        try
        {
            System.IO.File.Delete(File);
            if (folderToo && !System.IO.Directory.EnumerateFileSystemEntries(Directory).Any()) System.IO.Directory.Delete(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that stopped the writer is the one worth reporting.
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Whether <paramref name="directory"/> has a lock file (held or left by a released lock).</summary>
    public static bool HasLockFile(string directory) => System.IO.File.Exists(Path.Combine(directory, FileName));

    /// <summary>Empties the lock file (nobody to name) and releases the lock.</summary>
    public void Dispose()
    {
        if (_handle.IsClosed) return;
        RandomAccess.SetLength(_handle, 0);
        _handle.Dispose();
    }

    // Linux's values (x86-64 and arm64 alike).
    private const int ReadOnly = 0, ReadWrite = 2, Create = 0x40, CloseOnExec = 0x80000;
    private const int LockExclusive = 2, LockNonBlocking = 4;
    private const int WouldBlock = 11, NoLocks = 37, NotImplemented = 38, NotSupported = 95;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int Flock(int fd, int operation);
}
