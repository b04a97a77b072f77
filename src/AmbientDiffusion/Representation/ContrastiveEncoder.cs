using AmbientDiffusion.Classification;
using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn;

namespace AmbientDiffusion.Representation;

/// <summary>
/// The small convolutional encoder of the representation probe: three 3x3 conv + group norm (8 groups) + ReLU stages
/// (32, 64, 128 channels; 2x2 max pools after the first two; the norms let a few hundred Adam steps train it), global average pooling to the <see cref="FeatureDimension"/>-dimensional
/// representation, and a two-layer projection head (128 → 128 → <see cref="ProjectionDimension"/>) on which the
/// contrastive loss acts (the probe reads the representation before the head, as in SimCLR and StableRep). About
/// 118k parameters for grey images; any image size of at least 4x4. Inputs are uint8 images scaled as the classifier's.
/// </summary>
public sealed class ContrastiveEncoder : Module<Tensor, Tensor>
{
    /// <summary>Width of the representation.</summary>
    public const int FeatureDimension = 128;

    /// <summary>Width of the projection head's output.</summary>
    public const int ProjectionDimension = 64;

    private const int Groups = 8;

    /// <summary>Builds the encoder for <paramref name="geometry"/> images with weights drawn from a generator seeded by <paramref name="seed"/>.</summary>
    public ContrastiveEncoder(ClassifierGeometry geometry, ulong seed)
    {
        if (geometry.Channels is not (1 or 3) || geometry.Height < 4 || geometry.Width < 4)
            throw new ArgumentException($"encoder geometry {geometry}: expected 1 or 3 channels and at least 4x4 pixels");
        Geometry = geometry;
        using var generator = new Generator(seed);
        conv1 = register_module(nameof(conv1), new Conv2d(geometry.Channels, 32, 3, padding: 1, generator: generator));
        conv2 = register_module(nameof(conv2), new Conv2d(32, 64, 3, padding: 1, generator: generator));
        conv3 = register_module(nameof(conv3), new Conv2d(64, FeatureDimension, 3, padding: 1, generator: generator));
        norm1 = register_module(nameof(norm1), new GroupNorm(Groups, 32));
        norm2 = register_module(nameof(norm2), new GroupNorm(Groups, 64));
        norm3 = register_module(nameof(norm3), new GroupNorm(Groups, FeatureDimension));
        head1 = register_module(nameof(head1), new Linear(FeatureDimension, FeatureDimension, generator: generator));
        head2 = register_module(nameof(head2), new Linear(FeatureDimension, ProjectionDimension, generator: generator));
    }

    /// <summary>The image shape it takes.</summary>
    public ClassifierGeometry Geometry { get; }

#pragma warning disable CS1591
    public Conv2d conv1 { get; }
    public Conv2d conv2 { get; }
    public Conv2d conv3 { get; }
    public GroupNorm norm1 { get; }
    public GroupNorm norm2 { get; }
    public GroupNorm norm3 { get; }
    public Linear head1 { get; }
    public Linear head2 { get; }
#pragma warning restore CS1591

    /// <summary>uint8 [N, C, H, W] → float32 input in [-1, 1] on <paramref name="device"/>.</summary>
    public Tensor Prepare(Tensor images, Device device)
    {
        Geometry.Check(images, "encoder input");
        return images.to(ScalarType.Float32, device).div(127.5).sub(1.0);
    }

    /// <summary>The representation [N, <see cref="FeatureDimension"/>] of prepared inputs.</summary>
    public Tensor Features(Tensor input)
    {
        var x = MaxPool2(norm1.forward(conv1.forward(input)).relu());
        x = MaxPool2(norm2.forward(conv2.forward(x)).relu());
        return norm3.forward(conv3.forward(x)).relu().mean([2, 3]);
    }

    /// <summary>The projection [N, <see cref="ProjectionDimension"/>] of prepared inputs, where the contrastive loss acts.</summary>
    public override Tensor forward(Tensor input) => head2.forward(head1.forward(Features(input)).relu());

    /// <summary>2x2 max pooling with stride 2 (an odd last row or column is dropped); a side of 1 is left as is.</summary>
    private static Tensor MaxPool2(Tensor x)
    {
        var shape = x.shape;
        var (h, w) = (shape[2] / 2, shape[3] / 2);
        if (h == 0 || w == 0) return x;
        if (shape[2] != 2 * h) x = x.narrow(2, 0, 2 * h);
        if (shape[3] != 2 * w) x = x.narrow(3, 0, 2 * w);
        return x.reshape(shape[0], shape[1], h, 2, w, 2).amax([3, 5]);
    }
}
