namespace AmbientDiffusion.Data;

/// <summary>
/// Centre-crops an image to a square and resizes it to <c>Resolution</c> by area averaging: every output pixel is the
/// mean of the input area it covers, with fractional weights at the edges. Area averaging is the right filter for
/// downscaling photos (no aliasing, unlike nearest or bilinear sampling); for upscaling it reduces to nearest-neighbour.
/// </summary>
public sealed class SquareTransform
{
    /// <summary>Creates the transform. <paramref name="crop"/> null takes the largest centred square.</summary>
    public SquareTransform(int resolution, int? crop = null)
    {
        if (resolution is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "resolution must lie in [1, 4096]");
        if (crop is < 1) throw new ArgumentOutOfRangeException(nameof(crop), crop, "crop must be a positive number of pixels");
        (Resolution, Crop) = (resolution, crop);
    }

    /// <summary>Output side length.</summary>
    public int Resolution { get; }

    /// <summary>The centred square cut before resizing, or null for the largest one.</summary>
    public int? Crop { get; }

    /// <summary>Crops and resizes <paramref name="image"/> into CHW order; <paramref name="name"/> names it in errors.</summary>
    public byte[] Apply(DecodedImage image, string name)
    {
        var side = Crop ?? Math.Min(image.Height, image.Width);
        if (image.Height < side || image.Width < side)
            throw new InvalidDataException($"{name}: image is {image.Width}x{image.Height}, smaller than the {side}x{side} crop");
        var top = (image.Height - side) / 2;
        var left = (image.Width - side) / 2;
        var weights = AreaWeights(side, Resolution);
        var c = image.Channels;
        var r = Resolution;
        var output = new byte[c * r * r];
        var rows = new double[side * r];
        for (var channel = 0; channel < c; channel++)
        {
            // Horizontal pass over the cropped rows, then vertical pass.
            for (var y = 0; y < side; y++)
            {
                var rowStart = ((top + y) * image.Width + left) * c + channel;
                for (var x = 0; x < r; x++)
                {
                    var (start, w) = weights[x];
                    double sum = 0;
                    for (var k = 0; k < w.Length; k++) sum += w[k] * image.Pixels[rowStart + (start + k) * c];
                    rows[y * r + x] = sum;
                }
            }
            for (var y = 0; y < r; y++)
            {
                var (start, w) = weights[y];
                for (var x = 0; x < r; x++)
                {
                    double sum = 0;
                    for (var k = 0; k < w.Length; k++) sum += w[k] * rows[(start + k) * r + x];
                    output[(channel * r + y) * r + x] = (byte)Math.Clamp(Math.Round(sum, MidpointRounding.AwayFromZero), 0, 255);
                }
            }
        }
        return output;
    }

    /// <summary>For each output index, the first input index it touches and the normalised overlap weights.</summary>
    internal static (int start, double[] weights)[] AreaWeights(int inputSize, int outputSize)
    {
        var scale = (double)inputSize / outputSize;
        var result = new (int, double[])[outputSize];
        for (var j = 0; j < outputSize; j++)
        {
            var from = j * scale;
            var to = (j + 1) * scale;
            var first = (int)Math.Floor(from);
            var last = Math.Min(inputSize - 1, (int)Math.Ceiling(to) - 1);
            var w = new double[last - first + 1];
            for (var i = first; i <= last; i++) w[i - first] = Math.Max(0, Math.Min(to, i + 1) - Math.Max(from, i));
            var total = w.Sum();
            for (var k = 0; k < w.Length; k++) w[k] /= total;
            result[j] = (first, w);
        }
        return result;
    }
}
