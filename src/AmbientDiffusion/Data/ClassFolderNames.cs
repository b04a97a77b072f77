using System.Globalization;
using System.Text;

namespace AmbientDiffusion.Data;

/// <summary>
/// The one reversible mapping between class names and the folder names of a labelled ImageFolder tree, used by
/// <c>ambient synthesize</c> to write class folders and by the ImageFolder reader (<c>prepare</c>, <c>cas</c>,
/// <c>represent</c>) to read them back, so that a name such as <c>T-shirt/top</c> survives the round trip.
/// Percent-encoding of UTF-8 bytes (<c>%2F</c>), applied only where a name cannot be a folder name as it is:
/// <c>%</c> itself; <c>/ \ : * ? " &lt; &gt; |</c> and control characters; a leading <c>.</c> (a hidden folder,
/// which readers skip) or space; a trailing <c>.</c> or space (Windows drops them); the first letter of Windows
/// device names (<c>CON</c>, <c>NUL</c>, <c>COM1</c>, ...); and, where two names of one set differ only in case, their
/// upper-case letters (so they stay two folders on case-insensitive file systems). Everything else, Unicode letters
/// included, is kept, so plain names are their own folder names. Reading decodes every <c>%XX</c> escape; a folder
/// whose escapes are not valid UTF-8 (or that has none) reads as it is, as before this encoding existed.
/// </summary>
public static class ClassFolderNames
{
    /// <summary>The longest folder name, in UTF-8 bytes, that common file systems accept.</summary>
    public const int MaxFolderBytes = 255;

    private const string Reserved = "%/\\:*?\"<>|";

    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>The folder names of a set of classes (indexed as <paramref name="names"/>): each name encoded, with
    /// upper-case letters escaped in names that would otherwise share a folder on a case-insensitive file system.</summary>
    public static IReadOnlyList<string> For(IReadOnlyList<string> names)
    {
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"class name '{duplicate.Key}' appears {duplicate.Count()} times; each class needs its own name and folder");
        var plain = names.Select(n => Encode(n)).ToList();
        var clashing = plain.GroupBy(f => f, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).SelectMany(g => g).ToHashSet(StringComparer.Ordinal);
        var folders = names.Select((n, k) => clashing.Contains(plain[k]) ? Encode(n, escapeUpperCase: true) : plain[k]).ToList();
        var still = folders.GroupBy(f => f, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        return still is null ? folders : throw new ArgumentException($"class folders {string.Join(", ", still)} differ only in case; no file system can keep them apart everywhere");
    }

    /// <summary>The folder name of class <paramref name="name"/> (see the class summary); with
    /// <paramref name="escapeUpperCase"/> every character with a lower-case form is escaped as well.</summary>
    public static string Encode(string name, bool escapeUpperCase = false)
    {
        if (name.Length == 0) throw new ArgumentException("an empty class name has no folder name; give the class a name");
        var builder = new StringBuilder(name.Length);
        var span = name.AsSpan();
        var device = DeviceNames.Contains(name.Split('.', 2)[0].TrimEnd(' '));
        for (var i = 0; i < span.Length;)
        {
            if (Rune.DecodeFromUtf16(span[i..], out var rune, out var used) != System.Buffers.OperationStatus.Done)
                throw new ArgumentException($"class name '{name}' is not valid Unicode (a lone surrogate at character {i})");
            var first = i == 0;
            var last = i + used == span.Length;
            var escape = (rune.IsAscii && Reserved.Contains((char)rune.Value, StringComparison.Ordinal))
                || Rune.IsControl(rune)
                || (first && (rune.Value is '.' or ' ' || device))
                || (last && rune.Value is '.' or ' ')
                || (escapeUpperCase && Rune.ToLowerInvariant(rune) != rune);
            if (escape) Escape(builder, rune);
            else builder.Append(span.Slice(i, used));
            i += used;
        }
        var folder = builder.ToString();
        var bytes = Encoding.UTF8.GetByteCount(folder);
        return bytes <= MaxFolderBytes ? folder
            : throw new ArgumentException($"class name '{name}' needs a folder name of {bytes} bytes, longer than the {MaxFolderBytes} file systems allow; shorten the name");
    }

    /// <summary>The class name a folder stands for: every <c>%XX</c> escape decoded as UTF-8. A folder without valid
    /// escapes (a <c>%</c> not followed by two hex digits is kept as it is) is its own name.</summary>
    public static string Decode(string folder)
    {
        if (!folder.Contains('%', StringComparison.Ordinal)) return folder;
        var bytes = new List<byte>(folder.Length);
        var literal = new byte[4];
        for (var i = 0; i < folder.Length; i++)
        {
            if (folder[i] == '%' && i + 2 < folder.Length && IsHex(folder[i + 1]) && IsHex(folder[i + 2]))
            {
                bytes.Add(byte.Parse(folder.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 2;
                continue;
            }
            var count = Encoding.UTF8.GetBytes(folder.AsSpan(i, char.IsHighSurrogate(folder[i]) && i + 1 < folder.Length ? 2 : 1), literal);
            bytes.AddRange(literal.AsSpan(0, count));
            if (count == 4) i++;
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return folder;
        }
    }

    private static void Escape(StringBuilder builder, Rune rune)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var count = rune.EncodeToUtf8(utf8);
        foreach (var b in utf8[..count]) builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
