using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Common;

/// <summary>
/// bf16 and float32 step timings remembered per machine and network (a JSON file, by default
/// <c>$XDG_CACHE_HOME/ambient/bf16-timings.json</c> or <c>~/.cache/ambient/bf16-timings.json</c>), so that
/// <c>device.bf16: auto</c> measures once per CPU model, thread count and network shape rather than at every run, and
/// a resumed or repeated run on the same machine trains in the same precision. The key text (<see cref="Key"/>) is
/// stored beside its timings so the file explains itself. <see cref="EnvironmentVariable"/> set to <c>off</c>
/// disables the cache; set to a path, it names the file.
/// </summary>
public sealed class Bf16TimingCache(string path)
{
    /// <summary>The environment variable that disables the cache (<c>off</c>) or names its file.</summary>
    public const string EnvironmentVariable = "AMBIENT_BF16_CACHE";

    private const string FileName = "bf16-timings.json";

    // Relaxed escaping keeps the keys readable ("8480+", not "8480\u002B"); the file is only ever read as JSON.
    private static readonly JsonSerializerOptions Json = new(FiniteJson.Options)
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The file.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>The cache the environment asks for, or null when <see cref="EnvironmentVariable"/> is <c>off</c> (or
    /// no home folder is known).</summary>
    public static Bf16TimingCache? FromEnvironment()
    {
        var setting = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.Equals(setting, "off", StringComparison.OrdinalIgnoreCase)) return null;
        if (!string.IsNullOrWhiteSpace(setting)) return new Bf16TimingCache(setting);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrWhiteSpace(xdg) ? xdg : !string.IsNullOrWhiteSpace(home) ? System.IO.Path.Combine(home, ".cache") : null;
        return root is null ? null : new Bf16TimingCache(System.IO.Path.Combine(root, "ambient", FileName));
    }

    /// <summary>The cache key: what a step's speed depends on, in words (CPU model, its native-bf16 flags, intra-op
    /// threads and the network and batch shape).</summary>
    public static string Key(CpuCapabilities cpu, int threads, string network) =>
        $"cpu: {cpu.ModelName}; native bf16: {(cpu.HasNativeBf16 ? string.Join(" ", cpu.NativeBf16) : "none")}; threads: {threads}; {network}";

    /// <summary>The timings stored for <paramref name="key"/> (marked <see cref="Bf16Timing.FromCache"/>), or null.</summary>
    public Bf16Timing? Find(string key)
    {
        var entry = Read().GetValueOrDefault(Hash(key));
        return entry is not null && entry.Key == key ? entry.Timing with { FromCache = true } : null;
    }

    /// <summary>Stores <paramref name="timing"/> for <paramref name="key"/>, written whole (an unwritable cache folder
    /// only costs a measurement next time, so it is not an error).</summary>
    public void Store(string key, Bf16Timing timing)
    {
        var entries = Read();
        entries[Hash(key)] = new Entry(key, timing with { FromCache = false }, DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            AtomicFile.WriteAllBytes(Path, JsonSerializer.SerializeToUtf8Bytes(entries, Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    // A missing or unreadable file is an empty cache: the worst it costs is one measurement.
    private Dictionary<string, Entry> Read()
    {
        try
        {
            return File.Exists(Path) ? JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(Path), Json) ?? [] : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    private sealed record Entry(string Key, Bf16Timing Timing, string MeasuredAt);
}
