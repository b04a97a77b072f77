using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Loops;

/// <summary>Settings of <see cref="SigmaTnEstimator"/>; defaults and bounds live here only.</summary>
public sealed record SigmaTnEstimatorOptions
{
    /// <summary>The noise levels tried, ascending ([-1, 1] pixel units).</summary>
    public IReadOnlyList<double> Grid { get; init; } = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10];

    /// <summary>The margin τ: an image counts as indistinguishable at σ when its mean probability of being synthetic is at most 0.5 + τ.</summary>
    public double Margin { get; init; } = 0.05;

    /// <summary>Gradient steps of each logistic classifier.</summary>
    public int Steps { get; init; } = 300;

    /// <summary>L2 penalty on the classifier's weights, relative to the largest eigenvalue of the noisy data's covariance
    /// (so it means the same at every σ and pixel scale).</summary>
    public double L2 { get; init; } = 1e-3;

    /// <summary>Noise draws per image for training the classifier.</summary>
    public int Draws { get; init; } = 4;

    /// <summary>Noise draws an image's mean probability is taken over (many: the first crossing of a noisy mean comes early).</summary>
    public int ScoreDraws { get; init; } = 64;

    /// <summary>Seed of the real subset, the noise and the folds.</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Grid.Count >= 1 && Grid.All(s => s > 0 && double.IsFinite(s)) && Grid.Zip(Grid.Skip(1)).All(p => p.First < p.Second), "grid", Grid, "ascending positive noise levels");
        SettingException.Check(Margin is >= 0 and < 0.5, "margin", Margin, "a margin in [0, 0.5)");
        SettingException.Check(Steps is >= 1 and <= 100_000, "steps", Steps, "1 to 100000 steps");
        SettingException.Check(L2 >= 0 && double.IsFinite(L2), "l2", L2, "a penalty >= 0");
        SettingException.Check(Draws is >= 1 and <= 64, "draws", Draws, "1 to 64 noise draws");
        SettingException.Check(ScoreDraws is >= 1 and <= 4096, "score_draws", ScoreDraws, "1 to 4096 noise draws");
    }
}

/// <summary>The estimated σ_tn of every synthetic image, and per grid level the held-out balanced accuracy of the
/// real-vs-synthetic classifier on single noisy images (0.5: cannot tell them apart).</summary>
public sealed record SigmaTnEstimate(float[] PerImage, IReadOnlyList<double> Grid, IReadOnlyList<double> Accuracy);

/// <summary>
/// Ambient-Omni's σ_tn by the first-crossing rule, with a small noise-conditional real-vs-synthetic classifier: at each
/// σ of the grid, a logistic classifier on the noisy pixels x + σ·z (one per level: noise-conditional) learns to tell
/// real training images from the synthetic set. Cross-fitted over two folds of the synthetic set, so an image is scored
/// by a classifier that never trained on it. An image's σ_tn is the smallest grid σ at which its mean probability of
/// being synthetic (over noise draws) is at most 0.5 + τ; an image still recognised at the largest σ gets that σ.
/// A linear classifier sees only differences of mean and linear structure; a stronger one would give larger σ_tn.
/// </summary>
public static class SigmaTnEstimator
{
    /// <summary>Estimates σ_tn for the samples in <paramref name="samplesPath"/> against the training images of <paramref name="preparedPath"/>.</summary>
    public static SigmaTnEstimate Estimate(string preparedPath, string samplesPath, SigmaTnEstimatorOptions options, Device device)
    {
        options.Validate();
        using var scope = torch.NewDisposeScope();
        Tensor synthetic;
        using (var samples = SampleSet.Open(samplesPath)) synthetic = Pixels(samples.GetTensor(SampleSet.SamplesKey));
        Tensor real;
        using (var prepared = PreparedDataset.Open(preparedPath))
        {
            if (prepared.ImageBytes != synthetic.shape[1])
                throw new InvalidDataException($"{samplesPath}: samples of {synthetic.shape[1]} values each, but {preparedPath}'s images have {prepared.ImageBytes}");
            var count = Math.Min(prepared.Count, (int)synthetic.shape[0]);
            var chosen = RandomStreams.For(RandomStream.LoopNoiseClassifier, options.Seed).Permutation(prepared.Count).Take(count).Order().ToArray();
            real = Pixels(prepared.Images().index_select(0, torch.tensor(chosen.Select(i => (long)i).ToArray())));
        }
        return Estimate(real.to(device), synthetic.to(device), options);
    }

    /// <summary>Estimates σ_tn for <paramref name="synthetic"/> [M, D] against <paramref name="real"/> [N, D], pixels in [-1, 1].</summary>
    public static SigmaTnEstimate Estimate(Tensor real, Tensor synthetic, SigmaTnEstimatorOptions options)
    {
        options.Validate();
        using var scope = torch.NewDisposeScope();
        var m = (int)synthetic.shape[0];
        if (m < 2 || real.shape[0] < 2) throw new ArgumentException($"σ_tn estimation needs at least 2 real and 2 synthetic images, got {real.shape[0]} and {m}");
        var folds = RandomStreams.For(RandomStream.LoopNoiseClassifier, options.Seed, 1).Permutation(m).Select(i => i % 2).ToArray();
        var realFolds = Enumerable.Range(0, (int)real.shape[0]).Select(i => i % 2).ToArray();
        var estimate = Enumerable.Repeat((float)options.Grid[^1], m).ToArray();
        var settled = new bool[m];
        var accuracy = new List<double>();
        using var generator = new Generator(RandomStreams.Seed(RandomStream.LoopNoiseClassifier, options.Seed, 2));
        foreach (var sigma in options.Grid)
        {
            using var level = torch.NewDisposeScope();
            var probability = new float[m];
            var (correct, total) = (0.0, 0.0);
            for (var fold = 0; fold < 2; fold++)
            {
                var trainSynthetic = Select(synthetic, folds, f => f != fold);
                var trainReal = Select(real, realFolds, f => f != fold);
                var (w, b) = Fit(trainReal, trainSynthetic, sigma, options, generator);
                var testIndices = Enumerable.Range(0, m).Where(i => folds[i] == fold).ToArray();
                var scored = MeanProbability(Select(synthetic, folds, f => f == fold), w, b, sigma, options.ScoreDraws, generator).data<float>();
                for (var k = 0; k < testIndices.Length; k++) probability[testIndices[k]] = scored[k];
                // Balanced accuracy on the held-out fold, one noisy draw per image (a mean over draws would see through the
                // noise): each class weighs one half.
                var syntheticOnce = MeanProbability(Select(synthetic, folds, f => f == fold), w, b, sigma, 1, generator).data<float>();
                var realOnce = MeanProbability(Select(real, realFolds, f => f == fold), w, b, sigma, 1, generator).data<float>();
                correct += 0.5 * syntheticOnce.Count(p => p > 0.5) / syntheticOnce.Length + 0.5 * realOnce.Count(p => p <= 0.5) / realOnce.Length;
                total += 1;
            }
            accuracy.Add(correct / total);
            for (var i = 0; i < m; i++)
                if (!settled[i] && probability[i] <= 0.5 + options.Margin)
                    (estimate[i], settled[i]) = ((float)sigma, true);
        }
        return new SigmaTnEstimate(estimate, options.Grid, accuracy);
    }

    /// <summary>Logistic regression (synthetic = 1) on centred noisy copies, by gradient descent with a step from the
    /// largest eigenvalue of the data's second moment (power iteration), so it converges for any pixel scale.</summary>
    private static (Tensor W, Tensor B) Fit(Tensor real, Tensor synthetic, double sigma, SigmaTnEstimatorOptions options, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var clean = torch.cat([real, synthetic], 0);
        var x = torch.cat(Enumerable.Range(0, options.Draws).Select(_ => clean + Noise(clean, generator) * sigma).ToArray(), 0);
        var labels = torch.cat([torch.zeros([real.shape[0], 1], device: real.device), torch.ones([synthetic.shape[0], 1], device: real.device)], 0);
        var y = torch.cat(Enumerable.Repeat(labels, options.Draws).ToArray(), 0);
        var center = x.mean(0, keepdim: true);
        var xc = x - center;
        var n = (double)x.shape[0];
        var v = torch.ones([x.shape[1], 1], device: x.device);
        for (var i = 0; i < 20; i++)
        {
            v = torch.matmul(xc.transpose(0, 1), torch.matmul(xc, v)) / n;
            v = v / v.square().sum().sqrt().clamp(min: 1e-12);
        }
        var top = (torch.matmul(xc, v).square().sum() / n).item<float>();
        // 1/L steps: the logistic loss's curvature is at most 1/4 of the data's (the bias sees a constant feature, so 1/4).
        var penalty = options.L2 * Math.Max(top, 1e-12);
        var stepW = 1.0 / (0.25 * Math.Max(top, 1e-12) + penalty);
        var w = torch.zeros([x.shape[1], 1], device: x.device);
        var b = torch.zeros([1], device: x.device);
        for (var i = 0; i < options.Steps; i++)
        {
            var error = (torch.matmul(xc, w) + b).sigmoid() - y;
            w = w - (torch.matmul(xc.transpose(0, 1), error) / n + w * penalty) * stepW;
            b = b - error.mean() * 4.0;
        }
        // Fold the centring into the bias: logit = (x − c)·w + b.
        var bias = b - torch.matmul(center, w).reshape(1);
        return (scope.MoveToOuter(w), scope.MoveToOuter(bias));
    }

    private static Tensor MeanProbability(Tensor images, Tensor w, Tensor b, double sigma, int draws, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var sum = torch.zeros([images.shape[0]], device: images.device);
        for (var d = 0; d < draws; d++)
            sum = sum + (torch.matmul(images + Noise(images, generator) * sigma, w).reshape(-1) + b).sigmoid();
        return scope.MoveToOuter((sum / draws).cpu());
    }

    /// <summary>Standard normal noise like <paramref name="like"/>, drawn by the CPU generator (one stream on any device).</summary>
    private static Tensor Noise(Tensor like, Generator generator) => torch.randn(like.shape, generator: generator).to(like.device);

    private static Tensor Select(Tensor rows, int[] folds, Func<int, bool> keep) =>
        rows.index_select(0, torch.tensor(folds.Select((f, i) => (f, i)).Where(p => keep(p.f)).Select(p => (long)p.i).ToArray()).to(rows.device));

    /// <summary>uint8 [N, C, H, W] → float [N, C·H·W] in [-1, 1].</summary>
    private static Tensor Pixels(Tensor images) => images.to(ScalarType.Float32).flatten(1) / 127.5 - 1;
}
