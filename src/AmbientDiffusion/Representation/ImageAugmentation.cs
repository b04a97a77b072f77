using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Representation;

/// <summary>How the contrastive views are augmented.</summary>
/// <param name="CropPadding">Random crop: pad by this many pixels (reflection), then cut the original size at a random offset.</param>
/// <param name="MinCropArea">Random resized crop: a square of this fraction of the area or more (uniform in area), resized back
/// bilinearly; 1 turns it off. SimCLR's views need it: without it, two views of one image are too easy to match.</param>
/// <param name="FlipProbability">Chance of a horizontal flip.</param>
/// <param name="NoiseStd">Standard deviation of added Gaussian noise, in input units ([-1, 1] pixels).</param>
public sealed record AugmentationOptions(int CropPadding = 3, double MinCropArea = 0.5, double FlipProbability = 0.5, double NoiseStd = 0.05)
{
    /// <summary>Checks every value, naming the one that is wrong.</summary>
    public void Validate()
    {
        if (CropPadding < 0) throw new ArgumentException($"crop padding = {CropPadding}: expected 0 or more pixels");
        if (!(MinCropArea is > 0 and <= 1)) throw new ArgumentException($"minimum crop area = {MinCropArea}: expected a fraction in (0, 1]");
        if (FlipProbability is < 0 or > 1 || double.IsNaN(FlipProbability)) throw new ArgumentException($"flip probability = {FlipProbability}: expected 0 to 1");
        if (NoiseStd < 0 || !double.IsFinite(NoiseStd)) throw new ArgumentException($"noise std = {NoiseStd}: expected a finite value >= 0");
    }
}

/// <summary>
/// The standard augmentations of the contrastive views (random resized crop, random crop with padding, horizontal
/// flip, small Gaussian noise), every draw from the keyed (seed, epoch, batch) stream so that training is reproducible.
/// </summary>
public static class ImageAugmentation
{
    /// <summary>Augments prepared inputs <paramref name="x"/> [B, C, H, W] independently per row.</summary>
    public static Tensor Apply(Tensor x, AugmentationOptions options, ulong seed, int epoch, int batch)
    {
        var random = RandomStreams.For(RandomStream.ContrastiveAugmentation, seed, (ulong)epoch, (ulong)batch);
        var shape = x.shape;
        var (b, h, w) = (shape[0], shape[2], shape[3]);
        if (options.MinCropArea < 1)
        {
            var rows = new Tensor[b];
            for (var i = 0; i < b; i++)
            {
                var area = options.MinCropArea + (1 - options.MinCropArea) * random.NextDouble();
                var (ch, cw) = (Math.Max(1, (long)Math.Round(h * Math.Sqrt(area))), Math.Max(1, (long)Math.Round(w * Math.Sqrt(area))));
                var crop = x.narrow(0, i, 1).narrow(2, random.NextInt64(h - ch + 1), ch).narrow(3, random.NextInt64(w - cw + 1), cw);
                rows[i] = ch == h && cw == w ? crop : torch.nn.functional.resize_bilinear(crop, h, w, antialias: false);
            }
            x = torch.cat(rows, 0);
        }
        var p = options.CropPadding;
        if (p > 0)
        {
            // Reflection needs the padding below the side; clamp it for tiny images.
            var pad = (int)Math.Min(p, Math.Min(h, w) - 1);
            var padded = torch.nn.functional.reflection_pad2d(x, pad, pad, pad, pad);
            var rows = new Tensor[b];
            for (var i = 0; i < b; i++)
                rows[i] = padded.narrow(0, i, 1).narrow(2, random.NextInt(2 * pad + 1), h).narrow(3, random.NextInt(2 * pad + 1), w);
            x = torch.cat(rows, 0);
        }
        if (options.FlipProbability > 0)
        {
            var flips = new bool[b];
            for (var i = 0; i < b; i++) flips[i] = random.NextBernoulli(options.FlipProbability);
            var mask = torch.tensor(flips, [b, 1, 1, 1], x.device);
            x = torch.where(mask, x.flip(3), x);
        }
        if (options.NoiseStd > 0)
        {
            using var generator = new Generator(random.NextUInt64());
            x = x.add(torch.randn(shape, generator: generator).to(x.device).mul(options.NoiseStd));
        }
        return x;
    }
}
