using AmbientDiffusion.Torch;
using F = AmbientDiffusion.Torch.torch.nn.functional;

namespace AmbientDiffusion.Evaluation.Features;

/// <summary>Applies a <see cref="FeaturePreprocessing"/> to a batch of uint8 images (see its summary for the order).</summary>
internal static class FeaturePreprocessor
{
    /// <summary>
    /// The network input for uint8 [N, C, H, W] <paramref name="images"/> already on the network's device: uint8 for
    /// <see cref="FeatureInputRange.Uint8"/>, float32 otherwise. Belongs to the current dispose scope.
    /// </summary>
    public static Tensor Apply(FeaturePreprocessing p, Tensor images)
    {
        var x = ReplicateChannels(images, p.Channels);
        if (p.Resize is { } resize)
        {
            var (h, w) = resize.OutputSize(x.size(2), x.size(3));
            // torchvision resizes 8-bit images in float and rounds back to 8 bits; resizing happens on that grid here too.
            x = F.resize_bilinear(x.to(ScalarType.Float32), h, w, antialias: true).round_().clamp_(0, 255);
            if (p.InputRange == FeatureInputRange.Uint8) x = x.to(ScalarType.Byte);
        }
        if (p.InputRange == FeatureInputRange.Uint8) return x;
        x = p.InputRange switch
        {
            FeatureInputRange.ZeroOne => x.to(ScalarType.Float32).div(255),
            FeatureInputRange.MinusOneOne => x.to(ScalarType.Float32).div(127.5).sub_(1),
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.InputRange, "unknown input range"),
        };
        if (p.Mean is not null && p.Std is not null)
        {
            var mean = torch.tensor(p.Mean.ToArray(), [1, p.Mean.Count, 1, 1], x.device);
            var std = torch.tensor(p.Std.ToArray(), [1, p.Std.Count, 1, 1], x.device);
            x = x.sub(mean).div_(std);
        }
        return p.PadMultiple > 1 ? ReflectPad(x, p.PadMultiple) : x;
    }

    /// <summary>Grayscale replicated to <paramref name="channels"/>; any other mismatch is an error naming both counts.</summary>
    private static Tensor ReplicateChannels(Tensor images, int channels)
    {
        var c = images.size(1);
        if (c == channels) return images;
        if (c == 1) return images.repeat(1, channels, 1, 1);
        throw new ArgumentException($"images have {c} channels; the feature network takes {channels} (or grayscale, which is replicated)");
    }

    /// <summary>Reflection padding up to a multiple, split evenly with the odd pixel at the end (ambient-diffusion's pad_image).</summary>
    private static Tensor ReflectPad(Tensor x, int multiple)
    {
        var ph = (multiple - x.size(2) % multiple) % multiple;
        var pw = (multiple - x.size(3) % multiple) % multiple;
        if (ph == 0 && pw == 0) return x;
        if (ph >= x.size(2) || pw >= x.size(3))
            throw new ArgumentException($"images of {x.size(2)}x{x.size(3)} are too small to reflect-pad to a multiple of {multiple}");
        return F.reflection_pad2d(x, pw / 2, pw - pw / 2, ph / 2, ph - ph / 2);
    }
}
