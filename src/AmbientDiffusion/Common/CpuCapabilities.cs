namespace AmbientDiffusion.Common;

/// <summary>
/// What the CPU reports about computing bfloat16 natively, the condition for bf16 autocast to speed oneDNN's
/// convolutions up rather than emulate them: the flags <c>avx512_bf16</c> (AVX512-BF16) and <c>amx_bf16</c>
/// (AMX-BF16; <c>amx_tile</c> alone, AMX without its bf16 unit, does not count). Read from <c>/proc/cpuinfo</c> on
/// Linux; elsewhere no flags are known, which counts as no native bf16.
/// </summary>
/// <param name="Flags">The CPU flags as the operating system reports them (lower case).</param>
/// <param name="Source">Where the flags came from, for messages.</param>
public sealed record CpuCapabilities(IReadOnlySet<string> Flags, string Source)
{
    /// <summary>The flags that each mean native bf16 arithmetic.</summary>
    public static readonly IReadOnlyList<string> NativeBf16Flags = ["avx512_bf16", "amx_bf16"];

    private const string CpuInfoPath = "/proc/cpuinfo";

    private static readonly Lazy<CpuCapabilities> Probed = new(ReadProbe);

    /// <summary>The CPU's model name (the <c>model name</c> line of <c>/proc/cpuinfo</c>; "unknown CPU" where none is
    /// reported), which keys cached bf16 timings.</summary>
    public string ModelName { get; init; } = "unknown CPU";

    /// <summary>The native-bf16 flags this CPU reports (empty: none).</summary>
    public IReadOnlyList<string> NativeBf16 => NativeBf16Flags.Where(Flags.Contains).ToList();

    /// <summary>Whether the CPU computes bf16 natively.</summary>
    public bool HasNativeBf16 => NativeBf16.Count > 0;

    /// <summary>The flags of the first <c>flags</c> line of a <c>/proc/cpuinfo</c> text (all cores of one machine report the same).</summary>
    public static CpuCapabilities FromCpuInfo(string cpuInfo, string source = CpuInfoPath)
    {
        var lines = cpuInfo.Split('\n');
        string? Field(string name) => lines.Select(line => (line, colon: line.IndexOf(':')))
            .Where(l => l.colon > 0 && l.line[..l.colon].Trim() == name).Select(l => l.line[(l.colon + 1)..].Trim()).FirstOrDefault();
        var model = Field("model name") is { Length: > 0 } name ? name : "unknown CPU";
        if (Field("flags") is not { } flags) return Unknown($"{source} has no flags line") with { ModelName = model };
        var set = flags.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(f => f.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        return new CpuCapabilities(set, source) { ModelName = model };
    }

    /// <summary>No flags known (<paramref name="why"/>): counts as no native bf16.</summary>
    public static CpuCapabilities Unknown(string why) => new(new HashSet<string>(StringComparer.Ordinal), why);

    /// <summary>This machine's CPU, read once per process.</summary>
    public static CpuCapabilities Probe() => Probed.Value;

    private static CpuCapabilities ReadProbe()
    {
        if (!OperatingSystem.IsLinux()) return Unknown("not Linux: the CPU's bf16 support is not probed");
        try
        {
            return FromCpuInfo(File.ReadAllText(CpuInfoPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unknown($"{CpuInfoPath} unreadable ({e.Message})");
        }
    }
}
