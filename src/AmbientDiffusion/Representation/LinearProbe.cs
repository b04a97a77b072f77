using AmbientDiffusion.Classification;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using static AmbientDiffusion.Torch.torch.nn;

namespace AmbientDiffusion.Representation;

/// <summary>How the linear probe trains.</summary>
/// <param name="Epochs">Passes over the labelled features.</param>
/// <param name="BatchSize">Rows per Adam step.</param>
/// <param name="LearningRate">Adam's step size.</param>
/// <param name="Seed">Seeds the weights and the shuffles.</param>
public sealed record LinearProbeOptions(int Epochs = 30, int BatchSize = 256, double LearningRate = 1e-2, ulong Seed = 0)
{
    /// <summary>Checks every value, naming the option that is wrong.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"probe epochs = {Epochs}: expected at least 1");
        if (BatchSize < 1) throw new ArgumentException($"probe batch size = {BatchSize}: expected at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"probe learning rate = {LearningRate}: expected a finite value > 0");
    }
}

/// <summary>
/// Multinomial logistic regression on frozen features (one linear layer, softmax cross-entropy, Adam): the standard
/// measure of how linearly separable a representation makes the classes. Features are first standardised with the
/// training rows' per-dimension mean and standard deviation (as a parameter-free batch norm before the probe), so the
/// step size suits any encoder's feature scale.
/// </summary>
public static class LinearProbe
{
    /// <summary>Trains on float32 <paramref name="features"/> [N, D] with class ids <paramref name="labels"/> and scores
    /// <paramref name="testFeatures"/> against <paramref name="testLabels"/>.</summary>
    public static ClassificationReport TrainAndScore(Tensor features, long[] labels, Tensor testFeatures, long[] testLabels, IReadOnlyList<string> classNames, LinearProbeOptions options)
    {
        options.Validate();
        var n = (int)features.shape[0];
        if (labels.Length != n) throw new ArgumentException($"linear probe: {n} feature rows but {labels.Length} labels");
        using var scope = torch.NewDisposeScope();
        var mean = features.mean([0], keepdim: true);
        var std = features.std([0], unbiased: false, keepdim: true).clamp(min: 1e-6);
        features = features.sub(mean).div(std);
        testFeatures = testFeatures.sub(mean).div(std);
        using var generator = new Generator(options.Seed);
        using var layer = new Linear(features.shape[1], classNames.Count, generator: generator);
        using var flat = new torch.optim.FlatParameters(layer.parameters());
        using var adam = new torch.optim.Adam(flat, options.LearningRate);
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = RandomStreams.For(RandomStream.LinearProbeShuffle, options.Seed, (ulong)epoch).Permutation(n);
            for (var start = 0; start < n; start += options.BatchSize)
            {
                using var step = torch.NewDisposeScope();
                var indices = order.Skip(start).Take(options.BatchSize).Select(i => (long)i).ToArray();
                var loss = ClassifierTrainer.CrossEntropy(layer.forward(features.index_select(0, torch.tensor(indices))), torch.tensor(indices.Select(i => labels[i]).ToArray()));
                flat.zero_grad();
                loss.backward();
                adam.step();
            }
        }
        using var noGrad = torch.no_grad();
        return new ClassificationReport(layer.forward(testFeatures).argmax(1).data<long>(), testLabels, classNames);
    }
}
