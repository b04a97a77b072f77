using System.Globalization;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Corruption;
using AmbientDiffusion.Data;
using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>Where a run stands: everything besides tensors that resuming needs to continue exactly.</summary>
/// <param name="Step">Optimizer steps taken (skipped non-finite steps included).</param>
/// <param name="ImagesSeen">Training images consumed.</param>
/// <param name="LoaderNextBatch">The data loader's position: the next batch it yields.</param>
/// <param name="AdamStep">Adam's step count (bias correction).</param>
/// <param name="SkippedSteps">Steps skipped for non-finite gradients.</param>
/// <param name="NonfiniteInARow">Non-finite steps in a row at the time of the checkpoint.</param>
public sealed record TrainingState(long Step, long ImagesSeen, long LoaderNextBatch, long AdamStep, int SkippedSteps, int NonfiniteInARow)
{
    /// <summary>A run that has not started.</summary>
    public static TrainingState Initial { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>
/// The typed metadata of a checkpoint (format <c>ambient/checkpoint/1</c>, unchanged since the first version, so every
/// checkpoint ever written reads): the training state, the resolved config (YAML, for provenance; the model and loss
/// settings are read back from it), the training data's path, corruption and largest noise level, the network's
/// geometry and size (with the label dimension and class names of class-conditional models; checkpoints from before
/// conditioning lack those keys and read as unconditional), the tool version and, for imported networks only, the file
/// they were imported from. <see cref="ToMetadata"/> and <see cref="Read"/> are the only code that
/// knows the metadata keys.
/// </summary>
public sealed record CheckpointHeader
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/checkpoint/1";

#pragma warning disable CS1591
    public required TrainingState State { get; init; }
    public required string ResolvedConfig { get; init; }
    /// <summary>The run's name, as its resolved config records it.</summary>
    public string RunName { get; init; } = "";
    public required ModelSettings Model { get; init; }
    public required LossSettings Loss { get; init; }
    public required string DataPath { get; init; }
    /// <summary>The data's corruption as described by the corrupted artifact (free text).</summary>
    public required string DataCorruption { get; init; }
    /// <summary>The data's corruption settings as the artifact stores them (JSON of <see cref="CorruptionSpec"/>; empty when absent).</summary>
    public required string DataCorruptionSpecJson { get; init; }
    /// <summary>The largest noise level σ_n of the training data: the artifact's float32 value as its shortest decimal.</summary>
    public required double DataNoiseSigmaMax { get; init; }
    public required NetworkGeometry Geometry { get; init; }
    /// <summary>Class names by class id for class-conditional models (Geometry.LabelDim of them when the data named its
    /// classes), empty for unconditional ones.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    public required long Parameters { get; init; }
    public required string Tool { get; init; }
    /// <summary>For a network imported from another code base (`ambient import`): the file it came from and its SHA-256;
    /// empty for trained checkpoints.</summary>
    public string ImportedFrom { get; init; } = "";
    public string ImportedSha256 { get; init; } = "";
#pragma warning restore CS1591

    /// <summary>The data's corruption settings, or null when the artifact recorded none.</summary>
    public CorruptionSpec? DataCorruptionSpec(string path) => DataCorruptionSpecJson.Length == 0 ? null
        : JsonSerializer.Deserialize<CorruptionSpec>(DataCorruptionSpecJson, ProvenanceJson.Options) ?? throw new InvalidDataException($"{path}: metadata 'data_corruption_spec' is empty");

    /// <summary>The safetensors metadata of this header. The conditioning keys are written for class-conditional models
    /// only, so unconditional checkpoints stay as they always were.</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = CommonMetadata();
        if (Geometry.LabelDim > 0) metadata[LabelDimKey] = Text(Geometry.LabelDim);
        if (ClassNames.Count > 0) metadata[DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(ClassNames);
        if (ImportedFrom.Length > 0) (metadata[ImportedFromKey], metadata[ImportedSha256Key]) = (ImportedFrom, ImportedSha256);
        return metadata;
    }

    /// <summary>Metadata key of the label dimension (absent: unconditional).</summary>
    public const string LabelDimKey = "label_dim";

    private const string ImportedFromKey = "imported_from";
    private const string ImportedSha256Key = "imported_sha256";

    private Dictionary<string, string> CommonMetadata() => new()
    {
        ["format"] = FormatName,
        ["step"] = Text(State.Step),
        ["images_seen"] = Text(State.ImagesSeen),
        ["loader_next_batch"] = Text(State.LoaderNextBatch),
        ["adam_step"] = Text(State.AdamStep),
        ["skipped_steps"] = Text(State.SkippedSteps),
        ["nonfinite_in_a_row"] = Text(State.NonfiniteInARow),
        ["config"] = ResolvedConfig,
        ["data"] = DataPath,
        ["data_corruption"] = DataCorruption,
        ["data_corruption_spec"] = DataCorruptionSpecJson,
        ["data_noise_sigma_max"] = DataNoiseSigmaMax.ToString("R", CultureInfo.InvariantCulture),
        ["image_channels"] = Text(Geometry.ImageChannels),
        ["mask_channels"] = Text(Geometry.MaskChannels),
        ["resolution"] = Text(Geometry.Resolution),
        ["parameters"] = Text(Parameters),
        ["tool"] = Tool,
    };

    /// <summary>Reads the header of an open checkpoint; a missing or malformed key is an error naming the file and key.</summary>
    public static CheckpointHeader Read(SafeTensorsFile file)
    {
        string Require(string key) => file.Metadata.TryGetValue(key, out var value) ? value : throw new InvalidDataException($"{file.Path}: checkpoint metadata has no '{key}'");
        long Long(string key) => long.TryParse(Require(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"{file.Path}: metadata '{key}' is not an integer");
        int Int(string key) => checked((int)Long(key));
        // Checkpoints from before class conditioning have neither key: unconditional.
        var labelDim = file.Metadata.ContainsKey(LabelDimKey) ? Int(LabelDimKey) : 0;
        if (labelDim < 0) throw new InvalidDataException($"{file.Path}: metadata '{LabelDimKey}' is {labelDim}, expected >= 0");
        var config = Require("config");
        ResolvedSections sections;
        try
        {
            sections = Yaml.LenientDeserializer.Deserialize<ResolvedSections?>(config) ?? new ResolvedSections();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{file.Path}: the checkpoint's config cannot be read ({(e.InnerException ?? e).Message})", e);
        }
        return new CheckpointHeader
        {
            State = new TrainingState(Long("step"), Long("images_seen"), Long("loader_next_batch"), Long("adam_step"), Int("skipped_steps"), Int("nonfinite_in_a_row")),
            ResolvedConfig = config,
            RunName = sections.Name,
            Model = sections.Model,
            Loss = sections.Loss,
            DataPath = Require("data"),
            DataCorruption = Require("data_corruption"),
            DataCorruptionSpecJson = Require("data_corruption_spec"),
            DataNoiseSigmaMax = double.TryParse(Require("data_noise_sigma_max"), NumberStyles.Float, CultureInfo.InvariantCulture, out var sigma)
                ? sigma : throw new InvalidDataException($"{file.Path}: metadata 'data_noise_sigma_max' is not a number"),
            Geometry = new NetworkGeometry(Int("resolution"), Int("image_channels"), Int("mask_channels"), labelDim),
            ClassNames = DatasetLabels.ReadClassNames(file) ?? [],
            Parameters = Long("parameters"),
            Tool = Require("tool"),
            ImportedFrom = file.Metadata.TryGetValue(ImportedFromKey, out var from) ? from : "",
            ImportedSha256 = file.Metadata.TryGetValue(ImportedSha256Key, out var sha) ? sha : "",
        };
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The parts of a resolved config that describe the trained model (every other key is ignored).</summary>
    internal sealed record ResolvedSections
    {
        public string Name { get; init; } = "";
        public ModelSettings Model { get; init; } = new();
        public LossSettings Loss { get; init; } = new();
    }
}
