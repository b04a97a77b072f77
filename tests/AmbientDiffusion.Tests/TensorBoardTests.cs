using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientDiffusion.Config;
using AmbientDiffusion.Evaluation.Metrics;
using AmbientDiffusion.Experiments;
using AmbientDiffusion.TensorBoard;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Tests;

/// <summary>Skips a test, with the reason shown, when Debian's Python has no protobuf package to decode event files with.</summary>
public sealed class PythonProtobufFactAttribute : FactAttribute
{
    public PythonProtobufFactAttribute()
    {
        if (!TensorBoardTests.PythonHasProtobuf())
            Skip = "/usr/bin/python3 cannot import google.protobuf (apt-get install python3-protobuf; .ci/test installs it)";
    }
}

public sealed class TensorBoardTests
{
    /// <summary>
    /// An event-file reader that shares no code with the writer: it checks TFRecord's framing and both masked CRC-32Cs
    /// with its own bitwise CRC, and decodes the records with message classes built at run time from a descriptor that
    /// spells out TensorBoard's field numbers (event.proto, summary.proto, tensor.proto), not from the product's .proto.
    /// It prints one JSON object per record.
    /// </summary>
    private const string Reader = """
        import json, struct, sys
        from google.protobuf import descriptor_pb2, descriptor_pool
        try:
            from google.protobuf.message_factory import GetMessageClass
        except ImportError:
            from google.protobuf import message_factory
            GetMessageClass = lambda d: message_factory.MessageFactory().GetPrototype(d)

        def crc32c(data):
            crc = 0xFFFFFFFF
            for b in data:
                crc ^= b
                for _ in range(8):
                    crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
            return crc ^ 0xFFFFFFFF

        def masked(data):
            c = crc32c(data)
            return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

        F = descriptor_pb2.FieldDescriptorProto
        def message(parent, name, fields):
            m = parent.message_type.add() if hasattr(parent, 'message_type') else parent.nested_type.add()
            m.name = name
            for fname, number, ftype, label, type_name, oneof in fields:
                f = m.field.add(name=fname, number=number, type=ftype, label=label)
                if type_name: f.type_name = type_name
                if oneof is not None: f.oneof_index = oneof
            return m
        O, R = F.LABEL_OPTIONAL, F.LABEL_REPEATED
        fd = descriptor_pb2.FileDescriptorProto(name='independent_tb.proto', package='tb', syntax='proto3')
        dim = message(fd, 'Dim', [('size', 1, F.TYPE_INT64, O, None, None)])
        message(fd, 'TensorShapeProto', [('dim', 2, F.TYPE_MESSAGE, R, '.tb.Dim', None)])
        message(fd, 'TensorProto', [('dtype', 1, F.TYPE_INT32, O, None, None),
                                    ('tensor_shape', 2, F.TYPE_MESSAGE, O, '.tb.TensorShapeProto', None),
                                    ('string_val', 8, F.TYPE_BYTES, R, None, None)])
        message(fd, 'PluginData', [('plugin_name', 1, F.TYPE_STRING, O, None, None), ('content', 2, F.TYPE_BYTES, O, None, None)])
        message(fd, 'SummaryMetadata', [('plugin_data', 1, F.TYPE_MESSAGE, O, '.tb.PluginData', None)])
        message(fd, 'Image', [('height', 1, F.TYPE_INT32, O, None, None), ('width', 2, F.TYPE_INT32, O, None, None),
                              ('colorspace', 3, F.TYPE_INT32, O, None, None), ('encoded_image_string', 4, F.TYPE_BYTES, O, None, None)])
        v = message(fd, 'Value', [('tag', 1, F.TYPE_STRING, O, None, None), ('simple_value', 2, F.TYPE_FLOAT, O, None, 0),
                                  ('image', 4, F.TYPE_MESSAGE, O, '.tb.Image', 0), ('tensor', 8, F.TYPE_MESSAGE, O, '.tb.TensorProto', 0),
                                  ('metadata', 9, F.TYPE_MESSAGE, O, '.tb.SummaryMetadata', None)])
        v.oneof_decl.add(name='value')
        message(fd, 'Summary', [('value', 1, F.TYPE_MESSAGE, R, '.tb.Value', None)])
        e = message(fd, 'Event', [('wall_time', 1, F.TYPE_DOUBLE, O, None, None), ('step', 2, F.TYPE_INT64, O, None, None),
                                  ('file_version', 3, F.TYPE_STRING, O, None, 0), ('summary', 5, F.TYPE_MESSAGE, O, '.tb.Summary', 0)])
        e.oneof_decl.add(name='what')
        pool = descriptor_pool.DescriptorPool()
        pool.Add(fd)
        Event = GetMessageClass(pool.FindMessageTypeByName('tb.Event'))

        data = open(sys.argv[1], 'rb').read()
        pos = 0
        while pos < len(data):
            header = data[pos:pos + 8]
            (length,) = struct.unpack('<Q', header)
            (length_crc,) = struct.unpack('<I', data[pos + 8:pos + 12])
            body = data[pos + 12:pos + 12 + length]
            (body_crc,) = struct.unpack('<I', data[pos + 12 + length:pos + 16 + length])
            assert length_crc == masked(header), 'length crc at %d' % pos
            assert body_crc == masked(body), 'data crc at %d' % pos
            pos += 16 + length
            ev = Event()
            ev.ParseFromString(body)
            out = {'wall_time': ev.wall_time, 'step': ev.step}
            if ev.WhichOneof('what') == 'file_version':
                out['file_version'] = ev.file_version
            else:
                values = []
                for val in ev.summary.value:
                    kind = val.WhichOneof('value')
                    item = {'tag': val.tag, 'kind': kind}
                    if kind == 'simple_value': item['value'] = repr(val.simple_value)
                    if kind == 'image':
                        img = val.image
                        item.update(height=img.height, width=img.width, colorspace=img.colorspace, png_magic=img.encoded_image_string[:8].hex(), size=len(img.encoded_image_string))
                    if kind == 'tensor':
                        item.update(dtype=val.tensor.dtype, shape=[d.size for d in val.tensor.tensor_shape.dim],
                                    text=val.tensor.string_val[0].decode('utf-8'), plugin=val.metadata.plugin_data.plugin_name)
                    values.append(item)
                out['values'] = values
            print(json.dumps(out))
        assert pos == len(data), 'trailing bytes'
        """;

    internal static bool PythonHasProtobuf()
    {
        if (!File.Exists("/usr/bin/python3")) return false;
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import google.protobuf"]) { RedirectStandardError = true })!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    /// <summary>Every record of an event file, as the independent reader decodes it.</summary>
    internal static List<JsonElement> ReadIndependently(string eventFile)
    {
        using var dir = new TempDir();
        var script = dir.File("read_events.py");
        File.WriteAllText(script, Reader);
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, eventFile]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    internal static float Float(JsonElement value) => float.Parse(value.GetProperty("value").GetString()!.Replace("inf", "Infinity", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    [Theory]
    // RFC 3720, appendix B.4, and the customary check value of "123456789".
    [InlineData("zeros", 0x8A9136AAu)]
    [InlineData("ones", 0x62A8AB43u)]
    [InlineData("ascending", 0x46DD794Eu)]
    [InlineData("descending", 0x113FDB5Cu)]
    [InlineData("123456789", 0xE3069283u)]
    public void Crc32C_matches_the_published_test_vectors(string input, uint expected)
    {
        var bytes = input switch
        {
            "zeros" => new byte[32],
            "ones" => Enumerable.Repeat((byte)0xFF, 32).ToArray(),
            "ascending" => Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
            "descending" => Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(),
            _ => Encoding.ASCII.GetBytes(input),
        };
        Assert.Equal(expected, Crc32C.Compute(bytes));
    }

    [PythonProtobufFact]
    public void An_event_file_decodes_with_an_independent_reader_record_by_record()
    {
        using var dir = new TempDir();
        var png = File.ReadAllBytes(WriteSmallPng(dir));
        string path;
        using (var writer = new SummaryWriter(dir.File("board")))
        {
            path = writer.Path;
            writer.AddScalar("Loss/loss", 0.125, 64);
            writer.AddScalars([("a/x", 3.5), ("a/nan", double.NaN), ("a/inf", double.PositiveInfinity)], 128);
            writer.AddPng("Samples/grid", png, 128);
            writer.AddText("config", "name: tiny\nseed: 1 — ü", 0);
        }
        Assert.StartsWith(SummaryWriter.FilePrefix, Path.GetFileName(path), StringComparison.Ordinal);

        var records = ReadIndependently(path);
        Assert.Equal(5, records.Count);
        Assert.Equal(SummaryWriter.FileVersion, records[0].GetProperty("file_version").GetString());
        Assert.All(records, r => Assert.InRange(r.GetProperty("wall_time").GetDouble(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1));

        var loss = records[1].GetProperty("values")[0];
        Assert.Equal((64L, "Loss/loss", "simple_value", 0.125f), (records[1].GetProperty("step").GetInt64(), loss.GetProperty("tag").GetString(), loss.GetProperty("kind").GetString(), Float(loss)));
        var three = records[2].GetProperty("values");
        Assert.Equal(128L, records[2].GetProperty("step").GetInt64());
        Assert.Equal(["a/x", "a/nan", "a/inf"], three.EnumerateArray().Select(v => v.GetProperty("tag").GetString()));
        Assert.Equal(3.5f, Float(three[0]));
        Assert.True(float.IsNaN(Float(three[1])));
        Assert.Equal(float.PositiveInfinity, Float(three[2]));

        var image = records[3].GetProperty("values")[0];
        Assert.Equal(("Samples/grid", "image", 5, 7, 3, png.Length), (image.GetProperty("tag").GetString(), image.GetProperty("kind").GetString(),
            image.GetProperty("height").GetInt32(), image.GetProperty("width").GetInt32(), image.GetProperty("colorspace").GetInt32(), image.GetProperty("size").GetInt32()));
        Assert.Equal("89504e470d0a1a0a", image.GetProperty("png_magic").GetString());

        var text = records[4].GetProperty("values")[0];
        Assert.Equal(("config", "tensor", 7, "text", "name: tiny\nseed: 1 — ü"), (text.GetProperty("tag").GetString(), text.GetProperty("kind").GetString(),
            text.GetProperty("dtype").GetInt32(), text.GetProperty("plugin").GetString(), text.GetProperty("text").GetString()));
        Assert.Equal([1L], text.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Fact]
    public void Each_writer_starts_its_own_file_and_a_replacing_writer_replaces_one_file_whole()
    {
        using var dir = new TempDir();
        var board = dir.File("board");
        string first, second;
        using (var a = new SummaryWriter(board)) first = a.Path;
        using (var b = new SummaryWriter(board)) second = b.Path;
        Assert.NotEqual(first, second);

        using (var r = SummaryWriter.Replacing(board, "results.64")) r.AddScalar("x", 1, 64);
        var firstResults = File.ReadAllBytes(Path.Combine(board, SummaryWriter.FilePrefix + "results.64"));
        using (var r = SummaryWriter.Replacing(board, "results.64"))
        {
            r.AddScalar("x", 2, 64);
            r.AddScalar("y", 3, 64);
        }
        var files = Directory.GetFiles(board).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        // Two writers' files and one results file; no temporary file is left behind.
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.StartsWith(SummaryWriter.FilePrefix, f, StringComparison.Ordinal));
        Assert.True(File.ReadAllBytes(Path.Combine(board, SummaryWriter.FilePrefix + "results.64")).Length > firstResults.Length);
    }

    [PythonProtobufFact]
    public void A_run_logs_every_tick_the_config_its_evaluation_and_its_pictures_to_TensorBoard()
    {
        using var dir = new TempDir();
        var config = ConfigLoader.Load(ExperimentTests.WriteConfig(dir, ExperimentTests.TinyConfig(dir, "evaluation:\n  k: 2\n")));
        var result = new ExperimentRunner(dir.File("runs")).Run(config);
        var files = Directory.GetFiles(result.Run.TensorBoard, SummaryWriter.FilePrefix + "*");
        var records = files.SelectMany(ReadIndependently).ToList();
        var scalars = records.Where(r => r.TryGetProperty("values", out _))
            .SelectMany(r => r.GetProperty("values").EnumerateArray().Select(v => (Step: r.GetProperty("step").GetInt64(), Value: v))).ToList();

        // Every tick of metrics.jsonl, with the same loss, at the images seen.
        var ticks = File.ReadAllLines(result.Run.Metrics).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, ticks.Count);
        var losses = scalars.Where(s => s.Value.GetProperty("tag").GetString() == "Loss/loss").ToList();
        Assert.Equal(ticks.Select(t => (long)Math.Round(t.GetProperty("kimg").GetDouble() * 1000)), losses.Select(l => l.Step));
        Assert.Equal(ticks.Select(t => (float)t.GetProperty("loss").GetDouble()), losses.Select(l => Float(l.Value)));
        foreach (var tag in TrainingBoard.Scalars(new TrainingTick(0, 0, 0, 0, 0, 0, 0, 0)).Select(s => s.Tag))
            Assert.Equal(4, scalars.Count(s => s.Value.GetProperty("tag").GetString() == tag));

        // The resolved config as text.
        var text = Assert.Single(scalars, s => s.Value.GetProperty("tag").GetString() == RunBoard.ConfigTag);
        Assert.Contains(File.ReadAllText(result.Run.Config).Trim(), text.Value.GetProperty("text").GetString(), StringComparison.Ordinal);

        // The evaluation's metrics and floors, equal to metrics.json, at the last step; the grid and the story picture.
        var evaluation = MetricsReportWriter.Read(result.Run.Evaluation("pixels"));
        Assert.NotNull(evaluation);
        foreach (var (tag, value) in RunBoard.Scalars("pixels", evaluation))
        {
            var logged = Assert.Single(scalars, s => s.Value.GetProperty("tag").GetString() == tag);
            Assert.Equal((32L, (float)value), (logged.Step, Float(logged.Value)));
        }
        Assert.Single(scalars, s => s.Value.GetProperty("tag").GetString() == "Samples/grid" && s.Value.GetProperty("kind").GetString() == "image");
        Assert.Single(scalars, s => s.Value.GetProperty("tag").GetString() == "Samples/story" && s.Value.GetProperty("kind").GetString() == "image");
    }

    /// <summary>A 5×7 RGB PNG through the product's encoder.</summary>
    private static string WriteSmallPng(TempDir dir)
    {
        var path = dir.File("small.png");
        Fixtures.WriteImage(path, Fixtures.RandomPixels(5, 7, 3, seed: 3), 5, 7, 3);
        return path;
    }
}
