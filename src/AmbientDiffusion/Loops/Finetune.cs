using AmbientDiffusion.Experiments;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Loops;

/// <summary>Starts a generation from the previous generation's weights (<c>retrain: finetune</c>).</summary>
public static class Finetune
{
    /// <summary>Loads the EMA weights of <paramref name="previous"/>'s newest checkpoint (the weights that drew its
    /// samples; the raw ones without an EMA) into <paramref name="trainer"/>'s network and EMA, and saves a step-0
    /// checkpoint, so that an interrupted generation resumes from the fine-tuning start.</summary>
    public static void StartFrom(Trainer trainer, RunDirectory previous)
    {
        var path = Checkpoint.Latest(previous.Checkpoints) ?? throw new FileNotFoundException($"{previous.Checkpoints}: no checkpoint of the previous generation to fine-tune from");
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
