using System.Security.Cryptography;
using AmbientDiffusion.Common;
using AmbientDiffusion.Config;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Experiments;

/// <summary>
/// `ambient import`: a network trained by EDM or the official ambient code (an <see cref="EdmNetworkFile"/>) as a run
/// of this product: <c>config.yaml</c> and one checkpoint whose raw and EMA weights are the file's, so sampling,
/// memorization and evaluation work on it as on a trained run. Its header records the file and its SHA-256.
/// </summary>
public static class EdmNetworkImport
{
    /// <summary>
    /// The product's denoiser (eval mode, CPU) for the network file at <paramref name="path"/>, with the architecture
    /// it describes. Every tensor is checked against that architecture first; the first that does not match is an
    /// error naming it. <paramref name="dropout"/> must live as long as the model (eval mode never draws from it).
    /// </summary>
    public static (EdmPreconditioner Denoiser, EdmArchitecture Architecture) Load(string path, Generator dropout)
    {
        using var file = EdmNetworkFile.Open(path);
        var architecture = EdmNetworkFile.ReadArchitecture(file);
        // The weights are overwritten from the file; the init generator only has to exist.
        using var init = new Generator(0);
        var denoiser = DenoiserFactory.Create(architecture.Model, architecture.Geometry, init, dropout);
        try
        {
            using var scope = torch.NewDisposeScope();
            denoiser.load_state_dict(EdmStateDictMapping.FromReference(file, EdmStateDictMapping.Entries(denoiser, architecture.AugmentDim)));
            denoiser.eval();
            return (denoiser, architecture);
        }
        catch
        {
            denoiser.Dispose();
            throw;
        }
    }

    /// <summary>Imports the network file at <paramref name="path"/> into the new run <paramref name="runDirectory"/>
    /// and returns the checkpoint written. A run folder that already holds checkpoints is an error (nothing is
    /// overwritten or mixed).</summary>
    public static string Import(string path, string runDirectory)
    {
        var run = new RunDirectory(runDirectory);
        if (Checkpoint.Latest(run.Checkpoints) is { } existing)
            throw new ArgumentException($"{run.Path} already holds checkpoints ({Path.GetFileName(existing)}): import into a new run folder");
        using var dropout = new Generator(0);
        var (denoiser, architecture) = Load(path, dropout);
        using (denoiser)
        {
            var config = new ExperimentConfig
            {
                Name = Path.GetFileName(run.Path),
                // The run has no training data of its own: its config names the imported file instead (a config needs data,
                // and `ambient train` on it then stops at a file that is not a corrupted dataset).
                Data = new DataSection { Corrupted = Path.GetFullPath(path) },
                Model = architecture.Model,
                // EDM's networks learnt clean data: EDM's loss, which also tells the sampler to sample plainly.
                Loss = new LossSettings { Kind = LossKind.Edm },
            };
            config.Validate();
            var resolved = ConfigLoader.ToYaml(config);
            var header = new CheckpointHeader
            {
                State = TrainingState.Initial,
                ResolvedConfig = resolved,
                RunName = config.Name,
                Model = architecture.Model,
                Loss = config.Loss,
                DataPath = "",
                DataCorruption = $"none (imported from {architecture.Source})",
                DataCorruptionSpecJson = "",
                DataNoiseSigmaMax = 0,
                Geometry = architecture.Geometry,
                Parameters = denoiser.parameter_count(),
                Tool = ToolVersion.Describe(),
                ImportedFrom = Path.GetFullPath(path),
                ImportedSha256 = FileSha256(path),
            };
            var tensors = new List<KeyValuePair<string, Tensor>>();
            foreach (var (name, parameter) in denoiser.named_parameters())
            {
                tensors.Add(new(Checkpoint.ModelPrefix + name, parameter));
                tensors.Add(new(Checkpoint.EmaPrefix + name, parameter));
            }
            Directory.CreateDirectory(run.Checkpoints);
            run.WriteConfig(resolved);
            var checkpoint = Path.Combine(run.Checkpoints, Checkpoint.FileName(0));
            Checkpoint.Save(checkpoint, tensors, header);
            return checkpoint;
        }
    }

    private static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
