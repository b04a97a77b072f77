using System.Globalization;
using AmbientDiffusion.Common;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>
/// A training checkpoint (safetensors): the weights as <c>model.*</c>, the EMA weights as <c>ema.*</c> (what sampling
/// uses), Adam's moments, the generator states, and as metadata its <see cref="CheckpointHeader"/>. Everything needed
/// to continue exactly where training stopped; PyTorch users can open it with the safetensors package. This class owns
/// the tensor names, the file names and the one way weights get into a denoiser.
/// </summary>
public static class Checkpoint
{

#pragma warning disable CS1591
    public const string ModelPrefix = "model.";
    public const string EmaPrefix = "ema.";
    public const string AdamExpAvg = "adam.exp_avg";
    public const string AdamExpAvgSq = "adam.exp_avg_sq";
    public const string DropoutGeneratorState = "rng.dropout";
#pragma warning restore CS1591

    /// <summary>File name of the checkpoint taken after <paramref name="step"/> steps.</summary>
    public static string FileName(long step) => $"checkpoint-{step.ToString("D9", CultureInfo.InvariantCulture)}.safetensors";

    /// <summary>The newest checkpoint in <paramref name="directory"/>, or null.</summary>
    public static string? Latest(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "checkpoint-*.safetensors").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
            : null;

    /// <summary>Opens a checkpoint and checks its format.</summary>
    public static SafeTensorsFile Open(string path) => ArtifactFile.Open(path, CheckpointHeader.FormatName, "a checkpoint", "");

    /// <summary>Writes a checkpoint atomically: <paramref name="tensors"/> with <paramref name="header"/> as metadata, plus
    /// <paramref name="parallelMetadata"/>, the keys <see cref="DataParallel"/> owns (the world size of a multi-process run).</summary>
    public static void Save(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, CheckpointHeader header, IReadOnlyDictionary<string, string>? parallelMetadata = null)
    {
        var metadata = header.ToMetadata();
        foreach (var (key, value) in parallelMetadata ?? new Dictionary<string, string>()) metadata.Add(key, value);
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the tensor unless the checkpoint's float tensors
    /// (<paramref name="names"/>; all of them by default) are finite: what resume checks besides the weights.</summary>
    public static void RequireFinite(SafeTensorsFile file, IEnumerable<string>? names = null) =>
        FiniteValues.Require(file, "checkpoint", names ?? file.Keys);

    /// <summary>
    /// The trained denoiser of a checkpoint (EMA weights with <paramref name="ema"/>), built from its header's model
    /// settings and geometry, in eval mode on <paramref name="device"/>. <paramref name="dropout"/> must live as long as
    /// the model (eval mode never draws from it).
    /// </summary>
    public static EdmPreconditioner LoadDenoiser(SafeTensorsFile file, CheckpointHeader header, Generator dropout, Device device, bool ema)
    {
        // Weights are overwritten by the checkpoint; the init generator only has to exist.
        using var init = new Generator(0);
        var model = DenoiserFactory.Create(header.Model, header.Geometry, init, dropout);
        try
        {
            LoadWeights(file, model, ema);
            model.eval();
            model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies the <c>model.*</c> (or, with <paramref name="ema"/>, <c>ema.*</c>) weights of a checkpoint into
    /// <paramref name="module"/>, checking names, shapes and that every weight is finite (so sampling, synthesis,
    /// reconstruction, fine-tuning and resume all refuse a checkpoint with a NaN weight, naming the tensor).</summary>
    public static void LoadWeights(SafeTensorsFile file, torch.nn.Module module, bool ema)
    {
        var prefix = ema ? EmaPrefix : ModelPrefix;
        if (ema && !file.Keys.Any(k => k.StartsWith(EmaPrefix, StringComparison.Ordinal)))
            throw new InvalidDataException($"{file.Path}: the checkpoint has no EMA weights (training ran with ema_halflife_kimg = 0); load the raw weights instead");
        using var scope = torch.NewDisposeScope();
        var state = module.state_dict().Keys.ToDictionary(k => k, k => file.Contains(prefix + k)
            ? file.GetTensor(prefix + k)
            : throw new InvalidDataException($"{file.Path}: no '{prefix + k}' for the model's parameter '{k}' (was it trained with another model config?)"));
        foreach (var (name, tensor) in state) FiniteValues.Require(tensor, $"checkpoint {file.Path}", prefix + name);
        module.load_state_dict(state);
    }
}
