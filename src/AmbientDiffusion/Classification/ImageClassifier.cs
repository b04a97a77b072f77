using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn;

namespace AmbientDiffusion.Classification;

/// <summary>
/// The in-product classifier: two conv blocks (3x3 conv, ReLU, 2x2 max pool; 16 then 32 channels), further 2x2 max
/// pools until the map is at most 8x8, a hidden linear layer of <see cref="FeatureDimension"/> ReLU units (the feature
/// space), and a linear layer to the class logits. About 106k parameters at 1x28x28, 137k at 3x32x32. Inputs are uint8
/// images scaled by <see cref="Normalisation"/>.
/// </summary>
public sealed class ImageClassifier : Module<Tensor, Tensor>
{
    /// <summary>Width of the hidden layer, the feature space.</summary>
    public const int FeatureDimension = 64;

    /// <summary>How uint8 pixels become network inputs.</summary>
    public const string Normalisation = "x/127.5 - 1";

    private const int LargestPooledSide = 8;
    private readonly int _extraPools;

    /// <summary>Builds the network with weights drawn from a generator seeded by <paramref name="seed"/>.</summary>
    public ImageClassifier(ClassifierGeometry geometry, int classCount, ulong seed = 0)
    {
        if (geometry.Channels is not (1 or 3) || geometry.Height < 4 || geometry.Width < 4)
            throw new ArgumentException($"classifier geometry {geometry}: expected 1 or 3 channels and at least 4x4 pixels");
        if (classCount < 2) throw new ArgumentException($"classifier with {classCount} classes: expected at least 2");
        (Geometry, ClassCount) = (geometry, classCount);
        var (h, w) = (geometry.Height / 4, geometry.Width / 4);
        while (Math.Max(h, w) > LargestPooledSide)
        {
            (h, w) = (h / 2, w / 2);
            _extraPools++;
        }
        using var generator = new Generator(seed);
        conv1 = register_module(nameof(conv1), new Conv2d(geometry.Channels, 16, 3, padding: 1, generator: generator));
        conv2 = register_module(nameof(conv2), new Conv2d(16, 32, 3, padding: 1, generator: generator));
        hidden = register_module(nameof(hidden), new Linear(32L * h * w, FeatureDimension, generator: generator));
        output = register_module(nameof(output), new Linear(FeatureDimension, classCount, generator: generator));
    }

    /// <summary>The image shape it takes.</summary>
    public ClassifierGeometry Geometry { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

#pragma warning disable CS1591
    public Conv2d conv1 { get; }
    public Conv2d conv2 { get; }
    public Linear hidden { get; }
    public Linear output { get; }
#pragma warning restore CS1591

    /// <summary>uint8 [N, C, H, W] → float32 network input on <paramref name="device"/>.</summary>
    public Tensor Prepare(Tensor images, Device device)
    {
        Geometry.Check(images, "classifier input");
        return images.to(ScalarType.Float32, device).div(127.5).sub(1.0);
    }

    /// <summary>The hidden layer's activations (the feature space), float32 [N, <see cref="FeatureDimension"/>], of prepared inputs.</summary>
    public Tensor Features(Tensor input)
    {
        var x = MaxPool2(conv1.forward(input).relu());
        x = MaxPool2(conv2.forward(x).relu());
        for (var i = 0; i < _extraPools; i++) x = MaxPool2(x);
        return hidden.forward(x.flatten(1)).relu();
    }

    /// <summary>Class logits [N, classes] of prepared inputs.</summary>
    public override Tensor forward(Tensor input) => output.forward(Features(input));

    /// <summary>2x2 max pooling with stride 2 (an odd last row or column is dropped, as PyTorch's floor mode).</summary>
    private static Tensor MaxPool2(Tensor x)
    {
        var shape = x.shape;
        var (h, w) = (shape[2] / 2, shape[3] / 2);
        if (shape[2] != 2 * h) x = x.narrow(2, 0, 2 * h);
        if (shape[3] != 2 * w) x = x.narrow(3, 0, 2 * w);
        return x.reshape(shape[0], shape[1], h, 2, w, 2).amax([3, 5]);
    }
}
