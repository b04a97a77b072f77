using AmbientDiffusion.Experiments;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Rounds;

/// <summary>Starts a round from the previous round's weights (a loop's <c>retrain: finetune</c>, every EM round after the first).</summary>
public static class WarmStart
{
    /// <summary>Loads the EMA weights of <paramref name="previous"/>'s newest checkpoint (the weights that drew its
    /// samples; the raw ones without an EMA) into <paramref name="trainer"/>'s network and EMA, and saves a step-0
    /// checkpoint, so that an interrupted round resumes from the warm start.</summary>
    public static void From(Trainer trainer, RunDirectory previous)
    {
        var path = Checkpoint.Latest(previous.Checkpoints) ?? throw new FileNotFoundException($"{previous.Checkpoints}: no checkpoint of the previous round to start from");
        using (var scope = torch.NewDisposeScope())
        using (var file = Checkpoint.Open(path))
        {
            var ema = file.Keys.Any(k => k.StartsWith(Checkpoint.EmaPrefix, StringComparison.Ordinal));
            Checkpoint.LoadWeights(file, trainer.Model, ema);
            using var noGrad = torch.no_grad();
            trainer.FlatEmaWeights?.copy_(trainer.FlatWeights);
        }
        trainer.SaveCheckpoint();
    }
}
