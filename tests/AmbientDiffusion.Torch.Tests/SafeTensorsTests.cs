using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Torch.Tests;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ad-safetensors-{Guid.NewGuid():N}");

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static readonly ScalarType[] Dtypes =
    [
        ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float64, ScalarType.Byte,
        ScalarType.Int8, ScalarType.Int16, ScalarType.Int32, ScalarType.Int64, ScalarType.Bool,
    ];

    public static TheoryData<ScalarType> AllDtypes => new(Dtypes);

    // The dtype names of the safetensors format (https://github.com/huggingface/safetensors), written out independently.
    private static readonly Dictionary<ScalarType, string> FormatName = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float16] = "F16", [ScalarType.BFloat16] = "BF16", [ScalarType.Float64] = "F64",
        [ScalarType.Byte] = "U8", [ScalarType.Int8] = "I8", [ScalarType.Int16] = "I16", [ScalarType.Int32] = "I32",
        [ScalarType.Int64] = "I64", [ScalarType.Bool] = "BOOL",
    };

    private static JsonElement HeaderOf(string path)
    {
        var raw = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        using var json = JsonDocument.Parse(raw.AsMemory(8, length));
        return json.RootElement.Clone();
    }

    /// <summary>A [rows, cols] tensor of <paramref name="dtype"/> with varied content (including extremes).</summary>
    private static Tensor Sample(ScalarType dtype, long rows, long cols, ulong seed)
    {
        using var g = new Generator(seed);
        return dtype switch
        {
            ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64 =>
                (torch.randn([rows, cols], ScalarType.Float64, generator: g) * 100).to(dtype),
            ScalarType.Byte => torch.randint(0, 256, [rows, cols], generator: g).to(dtype),
            ScalarType.Int8 => torch.randint(-128, 128, [rows, cols], generator: g).to(dtype),
            ScalarType.Int16 => torch.randint(-32768, 32768, [rows, cols], generator: g).to(dtype),
            ScalarType.Int32 => torch.randint(int.MinValue, int.MaxValue, [rows, cols], generator: g).to(dtype),
            ScalarType.Int64 => torch.randint(long.MinValue / 2, long.MaxValue / 2, [rows, cols], generator: g),
            ScalarType.Bool => torch.randint(0, 2, [rows, cols], generator: g).to(dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
    }

    private static byte[] Bytes(Tensor t)
    {
        var bytes = new byte[t.numel() * t.element_size()];
        t.CopyBytesTo(bytes);
        return bytes;
    }

    private static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(Bytes(expected), Bytes(actual));
    }

    [Theory]
    [MemberData(nameof(AllDtypes))]
    public void Round_trip_preserves_every_dtype_bitwise(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["matrix"] = Sample(dtype, 5, 7, 1),
            ["scalar"] = Sample(dtype, 1, 1, 2).reshape(),
            ["empty"] = torch.zeros([0, 4], dtype),
            ["empty_tail"] = torch.zeros([3, 0, 2], dtype),
            ["transposed"] = Sample(dtype, 3, 4, 3).transpose(0, 1), // not contiguous: saved in logical order
        };
        if (dtype.IsFloatingPoint())
            tensors["special"] = torch.tensor(new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 1e-30 }).to(dtype);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcödé ✓ \"quoted\"" };
        var path = PathOf($"{dtype}.safetensors");
        SafeTensors.Save(path, tensors, metadata);

        using var file = SafeTensors.Open(path);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Keys);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(FormatName[dtype], HeaderOf(path).GetProperty("matrix").GetProperty("dtype").GetString());
        foreach (var (name, expected) in tensors)
        {
            var info = file.Info(name);
            Assert.Equal(dtype, info.Dtype);
            Assert.Equal(expected.shape, info.Shape);
            AssertSameTensor(expected.contiguous(), file.GetTensor(name));
        }
        Assert.Equal(Array.Empty<long>(), file.GetTensor("scalar").shape);
        Assert.Equal(0, file.GetTensor("empty").numel());

        var loaded = SafeTensors.Load(path);
        try
        {
            foreach (var (name, expected) in tensors) AssertSameTensor(expected.contiguous(), loaded[name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    [Fact]
    public void One_file_holds_every_dtype_with_metadata()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = Dtypes.ToDictionary(d => d.ToString(), d => Sample(d, 3, 5, (ulong)d + 10));
        tensors["blocks.0.ü<&>\"quoted\"\\ ✓"] = torch.ones([2], ScalarType.Int8); // names needing JSON escapes
        var metadata = new Dictionary<string, string> { ["step"] = "1200", ["empty"] = "", ["ключ"] = "значение\n" };
        var path = PathOf("all.safetensors");
        SafeTensors.Save(path, tensors, metadata);
        var loaded = SafeTensors.Load(path);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, expected) in tensors) AssertSameTensor(expected, loaded[name]);
        using var file = SafeTensors.Open(path);
        Assert.Equal(metadata, file.Metadata);
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void A_file_reached_through_a_symbolic_link_opens_like_the_file_itself()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["x"] = Sample(ScalarType.Float32, 4, 7, 3) };
        var path = PathOf("target.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["k"] = "v" });
        var link = PathOf("link.safetensors");
        File.CreateSymbolicLink(link, path);
        using var file = SafeTensors.Open(link);
        Assert.Equal("v", file.Metadata["k"]);
        var loaded = SafeTensors.Load(link);
        AssertSameTensor(tensors["x"], loaded["x"]);
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void Same_input_gives_the_same_bytes_and_a_reload_rewrites_them_identically()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = Sample(ScalarType.Float32, 4, 4, 5),
            ["a.bias"] = Sample(ScalarType.BFloat16, 1, 4, 6),
            ["c"] = Sample(ScalarType.Int64, 2, 2, 7),
        };
        var metadata = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" };
        SafeTensors.Save(PathOf("1.safetensors"), tensors, metadata);
        SafeTensors.Save(PathOf("2.safetensors"), tensors, metadata);
        // Same content, other insertion order: a dictionary is written sorted by name.
        var reordered = tensors.Reverse().ToDictionary(kv => kv.Key, kv => kv.Value);
        SafeTensors.Save(PathOf("3.safetensors"), reordered, metadata);
        var first = File.ReadAllBytes(PathOf("1.safetensors"));
        Assert.Equal(first, File.ReadAllBytes(PathOf("2.safetensors")));
        Assert.Equal(first, File.ReadAllBytes(PathOf("3.safetensors")));

        var loaded = SafeTensors.Load(PathOf("1.safetensors"));
        using (var file = SafeTensors.Open(PathOf("1.safetensors")))
            SafeTensors.Save(PathOf("4.safetensors"), loaded, file.Metadata);
        Assert.Equal(first, File.ReadAllBytes(PathOf("4.safetensors")));
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void Header_is_padded_so_that_the_data_starts_8_byte_aligned()
    {
        using var scope = torch.NewDisposeScope();
        // Names of every length 1..8 move the JSON length through every residue mod 8.
        for (var n = 1; n <= 8; n++)
        {
            var path = PathOf($"aligned{n}.safetensors");
            SafeTensors.Save(path, new Dictionary<string, Tensor> { [new string('w', n)] = torch.ones([3], ScalarType.Float64) });
            var bytes = File.ReadAllBytes(path);
            var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, headerLength % 8);
            Assert.Equal(0, (8 + headerLength) % 8);
            Assert.Equal(8 + headerLength + 3 * 8, bytes.Length);
            var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
            Assert.StartsWith("{", header, StringComparison.Ordinal);
            Assert.Matches(@"\} *$", header); // padding is spaces after the JSON object
            using var json = JsonDocument.Parse(header);
            var entry = json.RootElement.GetProperty(new string('w', n));
            Assert.Equal("F64", entry.GetProperty("dtype").GetString());
            Assert.Equal(0, entry.GetProperty("data_offsets")[0].GetInt64());
            Assert.Equal(24, entry.GetProperty("data_offsets")[1].GetInt64());
            Assert.Equal(1.0, BitConverter.ToDouble(bytes, (int)(8 + headerLength)));
        }
    }

    [Fact]
    public unsafe void Reads_the_fixture_written_by_an_independent_python_writer()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "reference_ops.safetensors");
        var raw = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        using var header = JsonDocument.Parse(raw.AsMemory(8, headerLength));
        var names = header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
        Assert.Equal(100, names.Count);

        using var scope = torch.NewDisposeScope();
        using var file = SafeTensors.Open(path);
        Assert.Equal(names, file.Keys);
        Assert.StartsWith("torch 1.13", file.Metadata["generator"], StringComparison.Ordinal);
        Assert.Equal("{\"num_groups\":4,\"eps\":1e-06}", file.Metadata["group_norm"]);
        foreach (var name in names)
        {
            var entry = header.RootElement.GetProperty(name);
            var t = file.GetTensor(name);
            Assert.Equal(ScalarType.Float32, t.dtype);
            Assert.Equal(entry.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()), t.shape);
            var begin = entry.GetProperty("data_offsets")[0].GetInt32();
            var end = entry.GetProperty("data_offsets")[1].GetInt32();
            Assert.Equal(raw.AsSpan(8 + headerLength + begin, end - begin).ToArray(), Bytes(t));
        }
        Assert.Equal(Array.Empty<long>(), file.GetTensor("mse.out").shape); // 0-d

        // The values mean what the writer says: linear.out = x W^T + b, grad_bias = gout summed over the batch.
        var (x, w, b) = (file.GetTensor("linear.x"), file.GetTensor("linear.weight"), file.GetTensor("linear.bias"));
        var ours = torch.nn.functional.linear(x, w, b);
        Assert.True((ours - file.GetTensor("linear.out")).abs().max().item<float>() < 1e-5f);
        Assert.True((file.GetTensor("linear.gout").sum(0) - file.GetTensor("linear.grad_bias")).abs().max().item<float>() < 1e-5f);
    }

    // ---- corrupt files ---------------------------------------------------------------------------------

    /// <summary>Writes an 8-byte length, the header (padded to 8 with spaces unless <paramref name="pad"/> is false) and the data.</summary>
    private string WriteRaw(string name, string header, byte[]? data = null, ulong? declaredLength = null, bool pad = true)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header).ToList();
        while (pad && headerBytes.Count % 8 != 0) headerBytes.Add((byte)' ');
        var bytes = new byte[8 + headerBytes.Count + (data?.Length ?? 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)headerBytes.Count);
        headerBytes.CopyTo(bytes, 8);
        data?.CopyTo(bytes, 8 + headerBytes.Count);
        var path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static InvalidDataException AssertInvalid(string path, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(() => { using var file = SafeTensors.Open(path); });
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Equal(e.Message, e2.Message);
        return e;
    }

    private string SaveValid(string name)
    {
        using var scope = torch.NewDisposeScope();
        var path = PathOf(name);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = torch.arange(16, ScalarType.Float32), ["b"] = torch.ones([4, 4], ScalarType.Int32) },
            new Dictionary<string, string> { ["k"] = "v" });
        return path;
    }

    [Fact]
    public void File_cut_in_the_data_is_reported_as_truncated()
    {
        var path = SaveValid("cut-data.safetensors");
        var bytes = File.ReadAllBytes(path);
        foreach (var cut in new[] { 1, 4, 64, 127 })
        {
            File.WriteAllBytes(path, bytes[..^cut]);
            AssertInvalid(path, "truncated", $"holds {128 - cut}");
        }
    }

    [Fact]
    public void File_cut_in_the_header_is_reported()
    {
        var path = SaveValid("cut-header.safetensors");
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        foreach (var keep in new[] { 8, 9, 8 + headerLength / 2, 8 + headerLength - 1 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            AssertInvalid(path, $"header length {headerLength}", "past the end");
        }
    }

    [Fact]
    public void Offsets_past_the_end_of_the_data_are_rejected()
    {
        var path = WriteRaw("past-end.safetensors", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[8]);
        AssertInvalid(path, "needs 16 bytes", "holds 8");
        path = WriteRaw("past-end2.safetensors", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}""", new byte[12]);
        AssertInvalid(path, "needs 16 bytes", "truncated");
    }

    [Fact]
    public void Overlapping_offsets_are_rejected()
    {
        var path = WriteRaw("overlap.safetensors",
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[24]);
        AssertInvalid(path, "'b' overlaps");
        // Two tensors aliasing exactly the same bytes.
        path = WriteRaw("alias.safetensors",
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}}""", new byte[16]);
        AssertInvalid(path, "overlaps");
    }

    [Fact]
    public void Offsets_whose_size_does_not_match_dtype_and_shape_are_rejected()
    {
        var path = WriteRaw("size.safetensors", """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", new byte[12]);
        AssertInvalid(path, "tensor 'a'", "needs 16 bytes", "span 12");
        path = WriteRaw("size2.safetensors", """{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}}""", new byte[4]);
        AssertInvalid(path, "needs 2 bytes");
        path = WriteRaw("reversed.safetensors", """{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}""", new byte[4]);
        AssertInvalid(path, "0 <= begin <= end");
        path = WriteRaw("overflow.safetensors", """{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", new byte[8]);
        AssertInvalid(path, "tensor 'a'");
    }

    [Fact]
    public void Gaps_between_tensors_and_undescribed_trailing_bytes_are_rejected()
    {
        var path = WriteRaw("gap.safetensors",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", new byte[20]);
        AssertInvalid(path, "gap", "'b'");
        path = WriteRaw("lead.safetensors", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]);
        AssertInvalid(path, "gap");
        path = WriteRaw("trailing.safetensors", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[9]);
        AssertInvalid(path, "1 bytes after the last tensor");
    }

    [Fact]
    public void A_10_GB_header_length_fails_fast_without_allocating()
    {
        var path = WriteRaw("huge.safetensors", """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", new byte[1], declaredLength: 10_000_000_000UL);
        AssertInvalid(path); // warm up (JIT) before measuring
        var rssBefore = ResidentBytes();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path));
        watch.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var rssGrowth = ResidentBytes() - rssBefore;
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("header length 10000000000 exceeds", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
        Assert.True(rssGrowth < 100 << 20, $"RSS grew by {rssGrowth} bytes");
        Assert.True(watch.ElapsedMilliseconds < 1000, $"took {watch.ElapsedMilliseconds} ms");

        // Every byte set: 2^64 - 1 must not overflow into a small or negative length.
        path = WriteRaw("max.safetensors", "{}", declaredLength: ulong.MaxValue);
        AssertInvalid(path, "exceeds");
    }

    [Fact]
    public void A_header_length_beyond_the_file_fails_before_allocating_the_header()
    {
        // 64 MB is under the 100 MB header limit, so only the comparison with the file length stops it.
        var path = WriteRaw("long.safetensors", "{}", declaredLength: 64UL << 20);
        AssertInvalid(path);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Contains($"header length {64 << 20} runs past the end of the 16-byte file", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        path = WriteRaw("one-more.safetensors", "{}", declaredLength: 9);
        AssertInvalid(path, "past the end");
    }

    [Fact]
    public void Invalid_json_is_rejected()
    {
        AssertInvalid(WriteRaw("json1.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]"""), "not valid JSON");
        AssertInvalid(WriteRaw("json2.safetensors", "not json at all"), "not valid JSON");
        AssertInvalid(WriteRaw("json3.safetensors", "", pad: false), "not valid JSON");
        AssertInvalid(WriteRaw("json5.safetensors", "[1,2,3]"), "not a JSON object");
        AssertInvalid(WriteRaw("json6.safetensors", """{"a":[1,2]}"""), "tensor 'a'", "not an object");
        AssertInvalid(WriteRaw("json7.safetensors", """{"a":{"shape":[1],"data_offsets":[0,4]}}"""), "missing string 'dtype'");
        AssertInvalid(WriteRaw("json8.safetensors", """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"""), "non-negative");
        AssertInvalid(WriteRaw("json9.safetensors", """{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"""), "non-negative");
        AssertInvalid(WriteRaw("json10.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"""), "[begin, end]");
        AssertInvalid(WriteRaw("json11.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", new byte[4]), "data_offsets");
        AssertInvalid(WriteRaw("json12.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,null]}}""", new byte[4]), "data_offsets");
        AssertInvalid(WriteRaw("json13.safetensors", """{"a":{"dtype":"F32","data_offsets":[0,4]}}""", new byte[4]), "missing array 'shape'");
    }

    [Fact]
    public void Unknown_dtype_is_rejected()
    {
        AssertInvalid(WriteRaw("dtype1.safetensors", """{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", new byte[1]), "unsupported dtype 'F8_E4M3'");
        AssertInvalid(WriteRaw("dtype2.safetensors", """{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "unsupported dtype 'f32'");
        AssertInvalid(WriteRaw("dtype3.safetensors", """{"a":{"dtype":6,"shape":[1],"data_offsets":[0,4]}}""", new byte[4]), "dtype");
    }

    [Fact]
    public void Duplicate_keys_are_rejected()
    {
        AssertInvalid(WriteRaw("dup1.safetensors",
            """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", new byte[2]), "duplicate key 'a'");
        AssertInvalid(WriteRaw("dup2.safetensors", """{"__metadata__":{},"__metadata__":{}}"""), "duplicate key '__metadata__'");
        AssertInvalid(WriteRaw("dup3.safetensors", """{"__metadata__":{"k":"1","k":"2"}}"""), "duplicate", "'k'");
    }

    [Fact]
    public void Non_string_metadata_is_rejected()
    {
        AssertInvalid(WriteRaw("meta1.safetensors", """{"__metadata__":{"step":12}}"""), "__metadata__['step'] is not a string");
        AssertInvalid(WriteRaw("meta2.safetensors", """{"__metadata__":{"nested":{"a":"b"}}}"""), "__metadata__['nested'] is not a string");
        AssertInvalid(WriteRaw("meta3.safetensors", """{"__metadata__":{"n":null}}"""), "is not a string");
        AssertInvalid(WriteRaw("meta4.safetensors", """{"__metadata__":["a"]}"""), "__metadata__ is not an object");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void Files_shorter_than_8_bytes_are_rejected(int length)
    {
        var path = PathOf($"short{length}.safetensors");
        File.WriteAllBytes(path, Enumerable.Repeat((byte)1, length).ToArray());
        AssertInvalid(path, $"file is {length} bytes, shorter than the 8-byte header length");
    }

    [Fact]
    public void Missing_file_is_a_file_not_found_error()
    {
        var path = PathOf("absent.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensors.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    // ---- atomic write ----------------------------------------------------------------------------------

    private void AssertDirectoryHolds(params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    [Fact]
    public void Failed_save_leaves_no_file_and_no_temporary_file()
    {
        using var scope = torch.NewDisposeScope();
        var path = PathOf("model.safetensors");
        var x = torch.ones([2]);
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = x }));
        Assert.Contains("__metadata__", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { [""] = x }));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("a", x), new("a", x)]));
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, ThrowingAfterOne(x)));
        AssertDirectoryHolds();
    }

    [Fact]
    public void Failed_save_leaves_an_existing_file_untouched()
    {
        var path = SaveValid("model.safetensors");
        var original = File.ReadAllBytes(path);
        var modified = File.GetLastWriteTimeUtc(path);
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([3]);
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["ok"] = x, ["__metadata__"] = x }));
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, ThrowingAfterOne(x)));
        // A failure inside the atomic write itself (after bytes were written to the temporary file).
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(path));
        AssertDirectoryHolds("model.safetensors");
        using var file = SafeTensors.Open(path);
        Assert.Equal(["a", "b"], file.Keys);
    }

    [Fact]
    public void Failed_rename_removes_the_temporary_file()
    {
        // The target is a directory: the data is written, the final rename fails.
        Directory.CreateDirectory(PathOf("target.safetensors"));
        using var scope = torch.NewDisposeScope();
        Assert.ThrowsAny<IOException>(() => SafeTensors.Save(PathOf("target.safetensors"), new Dictionary<string, Tensor> { ["a"] = torch.ones([1024]) }));
        AssertDirectoryHolds("target.safetensors");
        Assert.Empty(Directory.GetFileSystemEntries(PathOf("target.safetensors")));
    }

    [Fact]
    public void Successful_save_replaces_the_file_and_leaves_nothing_else()
    {
        var path = SaveValid("model.safetensors");
        using var scope = torch.NewDisposeScope();
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["z"] = torch.full([2], 7, ScalarType.Int16) });
        AssertDirectoryHolds("model.safetensors");
        using var file = SafeTensors.Open(path);
        Assert.Equal(["z"], file.Keys);
        Assert.Equal(new short[] { 7, 7 }, file.GetTensor("z").data<short>());
    }

    private static IEnumerable<KeyValuePair<string, Tensor>> ThrowingAfterOne(Tensor x)
    {
        yield return new("first", x);
        throw new InvalidOperationException("producer failed mid-way");
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
