using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Classification;

/// <summary>The image shape a classifier takes: channels, height, width.</summary>
/// <param name="Channels">1 or 3.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public sealed record ClassifierGeometry(int Channels, int Height, int Width)
{
    /// <summary>Throws naming both shapes unless <paramref name="images"/> is uint8 [N, C, H, W] of this geometry;
    /// <paramref name="what"/> names the images in the message.</summary>
    public void Check(Tensor images, string what)
    {
        var shape = images.shape;
        if (images.dtype != ScalarType.Byte || shape.Length != 4)
            throw new ArgumentException($"{what}: expected uint8 images [N, {Channels}, {Height}, {Width}], got {images.dtype} [{string.Join(", ", shape)}]");
        if ((shape[1], shape[2], shape[3]) != (Channels, Height, Width))
            throw new ArgumentException($"{what}: images are {shape[1]}x{shape[2]}x{shape[3]} (CxHxW), the classifier takes {this}");
    }

    /// <summary>"CxHxW".</summary>
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}
