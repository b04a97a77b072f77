using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace AmbientDiffusion.Torch.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>), then the raw
/// tensor bytes. It cannot execute code on load, and PyTorch users open it with the <c>safetensors</c> package.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header accepted (the reference implementation's limit): a corrupt length never allocates more.</summary>
    public const long MaxHeaderBytes = 100L << 20;

    internal static string DtypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Byte => "U8",
        ScalarType.Int8 => "I8",
        ScalarType.Int16 => "I16",
        ScalarType.Int32 => "I32",
        ScalarType.Int64 => "I64",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no safetensors dtype"),
    };

    internal static ScalarType? ParseDtype(string name) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "U8" => ScalarType.Byte,
        "I8" => ScalarType.Int8,
        "I16" => ScalarType.Int16,
        "I32" => ScalarType.Int32,
        "I64" => ScalarType.Int64,
        "BOOL" => ScalarType.Bool,
        _ => null,
    };

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) and <paramref name="metadata"/> to <paramref name="path"/>
    /// atomically. Tensors on other devices are copied to the CPU first.
    /// </summary>
    public static unsafe void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = torch.NewDisposeScope();
        var entries = new List<(string name, Tensor data)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name == "__metadata__" || string.IsNullOrEmpty(name)) throw new ArgumentException($"invalid tensor name '{name}' for {path}");
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}' for {path}");
            entries.Add((name, tensor.detach().to(tensor.dtype, Device.CPU).contiguous()));
        }

        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                // Sorted, so equal metadata gives equal bytes whatever order it was built in.
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, data) in entries)
            {
                var bytes = data.numel() * data.element_size();
                json.WriteStartObject(name);
                json.WriteString("dtype", DtypeName(data.dtype));
                json.WriteStartArray("shape");
                foreach (var s in data.shape) json.WriteNumberValue(s);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, data) in entries)
            {
                var remaining = data.numel() * data.element_size();
                if (remaining == 0) continue;
                var pointer = (byte*)data.data_ptr();
                while (remaining > 0)
                {
                    var chunk = (int)Math.Min(remaining, 1 << 30);
                    stream.Write(new ReadOnlySpan<byte>(pointer, chunk));
                    pointer += chunk;
                    remaining -= chunk;
                }
            }
        });
    }

    /// <summary>Writes a dictionary of tensors (ordered by name for a stable file).</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors.OrderBy(t => t.Key, StringComparer.Ordinal), metadata);

    /// <summary>Opens a file for reading (memory-mapped, header validated).</summary>
    public static SafeTensorsFile Open(string path) => SafeTensorsFile.Open(path);

    /// <summary>Reads every tensor of a file into memory on <paramref name="device"/>.</summary>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.Keys.ToDictionary(k => k, k => file.GetTensor(k, device), StringComparer.Ordinal);
    }
}

/// <summary>Where one tensor lies in a safetensors file.</summary>
public sealed record SafeTensorInfo(string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

/// <summary>
/// A safetensors file opened for reading: the header is parsed and validated up front (offsets within the file,
/// sizes consistent with dtype and shape, no overlaps or gaps), the data is memory-mapped and copied into a tensor
/// only when asked for.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;
    private readonly long _dataStart;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        (_map, _view, _dataStart) = (map, view, dataStart);
        Keys = tensors.Select(t => t.Name).ToList();
        _tensors = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The string map stored under <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Header entry of a tensor.</summary>
    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}' (has: {string.Join(", ", Keys.Take(20))}{(Keys.Count > 20 ? ", ..." : "")})");

    /// <summary>Whether a tensor of that name exists.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Copies a tensor out of the mapping onto <paramref name="device"/> (CPU by default).</summary>
    public unsafe Tensor GetTensor(string name, Device? device = null)
    {
        var info = Info(name);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            var start = pointer + _view.PointerOffset + _dataStart + info.Begin;
            return torch.from_raw(start, info.Shape, info.Dtype, device);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    /// <summary>Copies raw bytes of tensor <paramref name="name"/>, starting <paramref name="byteOffset"/> bytes into its data,
    /// straight from the mapping: a data loader reads single samples without loading the whole tensor.</summary>
    public void ReadBytes(string name, long byteOffset, Span<byte> destination)
    {
        var info = Info(name);
        if (byteOffset < 0 || byteOffset + destination.Length > info.End - info.Begin)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"{Path}: bytes [{byteOffset}, {byteOffset + destination.Length}) lie outside tensor '{name}' ({info.End - info.Begin} bytes)");
        CopyFromView(_dataStart + info.Begin + byteOffset, destination);
    }

    private unsafe void CopyFromView(long position, Span<byte> destination)
    {
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            new ReadOnlySpan<byte>(pointer + _view.PointerOffset + position, destination.Length).CopyTo(destination);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    internal static SafeTensorsFile Open(string path)
    {
        torch.Initialize();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        long length, headerLength;
        byte[] header;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            // The opened stream's length, not FileInfo's: for a symbolic link FileInfo reports the link's own size.
            length = stream.Length;
            if (length < 8) throw Invalid(path, $"file is {length} bytes, shorter than the 8-byte header length");
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            var declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (declared > (ulong)SafeTensors.MaxHeaderBytes)
                throw Invalid(path, $"header length {declared} exceeds the {SafeTensors.MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
            headerLength = (long)declared;
            if (8 + headerLength > length) throw Invalid(path, $"header length {headerLength} runs past the end of the {length}-byte file");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        var dataLength = length - 8 - headerLength;
        var (tensors, metadata) = ParseHeader(path, header, dataLength);
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            return new SafeTensorsFile(path, map, view, 8 + headerLength, tensors, metadata);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    private static (List<SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"header is not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(path, "header is not a JSON object");
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Invalid(path, $"duplicate key '{property.Name}' in the header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Invalid(path, "__metadata__ is not an object");
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        if (entry.Value.ValueKind != JsonValueKind.String) throw Invalid(path, $"__metadata__['{entry.Name}'] is not a string");
                        if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!)) throw Invalid(path, $"duplicate key '{entry.Name}' in __metadata__");
                    }
                    continue;
                }
                tensors.Add(ParseEntry(path, property));
            }
            ValidateLayout(path, tensors, dataLength);
            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Invalid(path, $"tensor '{name}': entry is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"tensor '{name}': missing string 'dtype'");
        var dtype = SafeTensors.ParseDtype(dtypeElement.GetString()!) ?? throw Invalid(path, $"tensor '{name}': unsupported dtype '{dtypeElement.GetString()}'");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"tensor '{name}': missing array 'shape'");
        var shape = new List<long>();
        long numel = 1;
        foreach (var s in shapeElement.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
                throw Invalid(path, $"tensor '{name}': shape entries must be non-negative integers");
            shape.Add(size);
            numel = size == 0 || numel == 0 ? 0 : (numel > long.MaxValue / size ? throw Invalid(path, $"tensor '{name}': shape overflows") : numel * size);
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Invalid(path, $"tensor '{name}': 'data_offsets' must be [begin, end]");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw Invalid(path, $"tensor '{name}': data_offsets must be integers with 0 <= begin <= end");
        var expected = numel > long.MaxValue / dtype.ElementSize() ? -1 : numel * dtype.ElementSize();
        if (end - begin != expected)
            throw Invalid(path, $"tensor '{name}': {dtype} [{string.Join(", ", shape)}] needs {expected} bytes, data_offsets [{begin}, {end}] span {end - begin}");
        return new SafeTensorInfo(name, dtype, shape.ToArray(), begin, end);
    }

    // The data section must be tiled exactly by the tensors: no overlaps (two tensors aliasing bytes), no gaps,
    // nothing past the end of the file.
    private static void ValidateLayout(string path, List<SafeTensorInfo> tensors, long dataLength)
    {
        long cursor = 0;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != cursor)
                throw Invalid(path, t.Begin < cursor ? $"tensor '{t.Name}' overlaps the previous tensor's bytes" : $"gap in the data before tensor '{t.Name}'");
            cursor = t.End;
        }
        if (cursor > dataLength) throw Invalid(path, $"tensor data needs {cursor} bytes, the file holds {dataLength} after its header (truncated?)");
        if (cursor < dataLength) throw Invalid(path, $"{dataLength - cursor} bytes after the last tensor are not described by the header");
    }

    private static InvalidDataException Invalid(string path, string message) => new($"{path}: invalid safetensors file: {message}");

    /// <inheritdoc />
    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }
}
