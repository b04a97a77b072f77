using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>
/// A training checkpoint (safetensors): the weights as <c>model.*</c>, the EMA weights as <c>ema.*</c> (what sampling
/// uses), Adam's moments, the generator states, and in the metadata the step, images seen, the data loader's position
/// and the resolved config. Everything needed to continue exactly where training stopped; PyTorch users can open it
/// with the safetensors package.
/// </summary>
public static class Checkpoint
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/checkpoint/1";

#pragma warning disable CS1591
    public const string ModelPrefix = "model.";
    public const string EmaPrefix = "ema.";
    public const string AdamExpAvg = "adam.exp_avg";
    public const string AdamExpAvgSq = "adam.exp_avg_sq";
    public const string TrainGeneratorState = "rng.train";
    public const string DropoutGeneratorState = "rng.dropout";
#pragma warning restore CS1591

    /// <summary>File name of the checkpoint taken after <paramref name="step"/> steps.</summary>
    public static string FileName(long step) => $"checkpoint-{step.ToString("D9", CultureInfo.InvariantCulture)}.safetensors";

    /// <summary>The newest checkpoint in <paramref name="directory"/>, or null.</summary>
    public static string? Latest(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "checkpoint-*.safetensors").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
            : null;

    /// <summary>Reads a metadata value, failing with the file and key named.</summary>
    public static string Require(SafeTensorsFile file, string key) =>
        file.Metadata.TryGetValue(key, out var value) ? value : throw new InvalidDataException($"{file.Path}: checkpoint metadata has no '{key}'");

    /// <summary>Opens a checkpoint and checks its format.</summary>
    public static SafeTensorsFile Open(string path) => ArtifactFile.Open(path, FormatName, "a checkpoint", "");

    /// <summary>Copies the <c>model.*</c> (or, with <paramref name="ema"/>, <c>ema.*</c>) weights of a checkpoint into
    /// <paramref name="module"/>, checking names and shapes.</summary>
    public static void LoadWeights(SafeTensorsFile file, torch.nn.Module module, bool ema)
    {
        var prefix = ema ? EmaPrefix : ModelPrefix;
        if (ema && !file.Keys.Any(k => k.StartsWith(EmaPrefix, StringComparison.Ordinal)))
            throw new InvalidDataException($"{file.Path}: the checkpoint has no EMA weights (training ran with ema_halflife_kimg = 0); load the raw weights instead");
        using var scope = torch.NewDisposeScope();
        var state = module.state_dict().Keys.ToDictionary(k => k, k => file.Contains(prefix + k)
            ? file.GetTensor(prefix + k)
            : throw new InvalidDataException($"{file.Path}: no '{prefix + k}' for the model's parameter '{k}' (was it trained with another model config?)"));
        module.load_state_dict(state);
    }
}
