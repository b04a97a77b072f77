using System.Buffers.Binary;
using System.Globalization;
using AmbientDiffusion.TensorBoard.Protos;
using Google.Protobuf;

namespace AmbientDiffusion.TensorBoard;

/// <summary>
/// Writes one TensorBoard event file into a log folder, shaped like PyTorch's <c>SummaryWriter</c>: scalars, PNG images
/// and Markdown text, each at a global step. Every writer starts a new file (TensorBoard merges all files of a folder),
/// so a resumed run or a later pipeline stage appends events without touching earlier files. Each add is flushed, so a
/// crash loses at most the record being written, which TensorBoard's reader skips as truncated.
/// </summary>
public sealed class SummaryWriter : IDisposable
{
    /// <summary>The version string TensorBoard expects in a file's first event.</summary>
    public const string FileVersion = "brain.Event:2";

    /// <summary>Prefix TensorBoard looks for in the names of event files.</summary>
    public const string FilePrefix = "events.out.tfevents.";

    // TensorFlow's DataType enum value of DT_STRING.
    private const int StringDataType = 7;

    private static int _filesOpened;
    private readonly FileStream _file;
    private readonly string? _replaces;

    /// <summary>Opens a new event file in <paramref name="logDirectory"/> (created when missing).</summary>
    public SummaryWriter(string logDirectory)
        : this(System.IO.Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture,
            // Seconds first so that the name order is the time order; host, pid and a counter keep names unique.
            $"{FilePrefix}{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _filesOpened)}")), null)
    {
    }

    private SummaryWriter(string path, string? replaces)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        Path = replaces ?? path;
        _replaces = replaces;
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Write(new Event { WallTime = WallTime(), FileVersion = FileVersion });
    }

    /// <summary>A writer whose events replace the event file <c>events.out.tfevents.&lt;name&gt;</c> of
    /// <paramref name="logDirectory"/> whole when it is disposed: for results that a rerun recomputes, which must not
    /// appear twice. Until then the events go to a temporary file whose name TensorBoard ignores.</summary>
    public static SummaryWriter Replacing(string logDirectory, string name)
    {
        var target = System.IO.Path.Combine(logDirectory, FilePrefix + name);
        var temporary = System.IO.Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $".{name}.{Environment.ProcessId}.{Interlocked.Increment(ref _filesOpened)}.tmp"));
        return new SummaryWriter(temporary, target);
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    /// <summary>Adds a scalar; non-finite values are written as they are (TensorBoard shows NaN and infinities).</summary>
    public void AddScalar(string tag, double value, long step) => AddScalars([(tag, value)], step);

    /// <summary>Adds several scalars of one step as one event.</summary>
    public void AddScalars(IEnumerable<(string Tag, double Value)> scalars, long step)
    {
        var summary = new Summary();
        foreach (var (tag, value) in scalars) summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        if (summary.Value.Count > 0) Write(new Event { WallTime = WallTime(), Step = step, Summary = summary });
    }

    /// <summary>Adds a PNG image (its size and colour type are read from the PNG header).</summary>
    public void AddPng(string tag, byte[] png, long step)
    {
        var (width, height, colorspace) = PngHeader(png, tag);
        var image = new Summary.Types.Image { Width = width, Height = height, Colorspace = colorspace, EncodedImageString = ByteString.CopyFrom(png) };
        Write(new Event { WallTime = WallTime(), Step = step, Summary = new Summary { Value = { new Summary.Types.Value { Tag = tag, Image = image } } } });
    }

    /// <summary>Adds Markdown text, shown in TensorBoard's Text tab.</summary>
    public void AddText(string tag, string text, long step)
    {
        var tensor = new TensorProto { Dtype = StringDataType, TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 } } } };
        tensor.StringVal.Add(ByteString.CopyFromUtf8(text));
        // The text plugin recognises its data by the plugin name; its (empty) content is the plugin's version-0 data.
        var metadata = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = "text" } };
        Write(new Event { WallTime = WallTime(), Step = step, Summary = new Summary { Value = { new Summary.Types.Value { Tag = tag, Metadata = metadata, Tensor = tensor } } } });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var temporary = _file.Name;
        _file.Dispose();
        if (_replaces is not null) File.Move(temporary, _replaces, overwrite: true);
    }

    private void Write(Event e)
    {
        TfRecordWriter.Write(_file, e.ToByteArray());
        _file.Flush();
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Width, height and TensorBoard colorspace of a PNG, from its IHDR chunk.</summary>
    private static (int Width, int Height, int Colorspace) PngHeader(byte[] png, string tag)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 26 || !png.AsSpan(0, 8).SequenceEqual(signature) || !png.AsSpan(12, 4).SequenceEqual("IHDR"u8))
            throw new ArgumentException($"{tag}: not a PNG image", nameof(png));
        var width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        var height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        // PNG colour types: 0 grey, 2 RGB, 3 palette (shown as RGB), 4 grey + alpha, 6 RGBA.
        var colorspace = png[25] switch { 0 => 1, 4 => 2, 6 => 4, _ => 3 };
        return (width, height, colorspace);
    }
}
