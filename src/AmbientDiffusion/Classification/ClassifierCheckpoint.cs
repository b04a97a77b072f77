using System.Globalization;
using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Data;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Classification;

/// <summary>What a classifier checkpoint records besides its weights.</summary>
/// <param name="ClassNames">Class names, indexed by class id.</param>
/// <param name="Geometry">The image shape it takes.</param>
/// <param name="TrainingDataSha256">SHA-256 of the file it was trained on (or of the training tensors).</param>
/// <param name="HeldOutAccuracy">Top-1 accuracy on the held-out images, or null when none were scored.</param>
/// <param name="Training">The options it was trained with.</param>
/// <param name="TrainingImages">Images it was trained on.</param>
public sealed record ClassifierInfo(IReadOnlyList<string> ClassNames, ClassifierGeometry Geometry, string TrainingDataSha256, double? HeldOutAccuracy,
    ClassifierTrainingOptions Training, int TrainingImages);

/// <summary>A classifier loaded from a checkpoint, with its record.</summary>
public sealed class TrainedClassifier(ImageClassifier model, ClassifierInfo info) : IDisposable
{
    /// <summary>The network, in eval mode.</summary>
    public ImageClassifier Model { get; } = model;

    /// <summary>Its record.</summary>
    public ClassifierInfo Info { get; } = info;

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// A classifier checkpoint (safetensors): the weights as <c>model.*</c>, and metadata <c>class_names</c> (JSON list),
/// <c>geometry</c> (JSON [C, H, W]), <c>normalisation</c>, <c>training_data_sha256</c>, <c>heldout_accuracy</c>,
/// <c>training</c> (JSON options), <c>training_images</c> and <c>tool</c> (versions).
/// </summary>
public static class ClassifierCheckpoint
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "ambient/classifier/1";

    private const string ModelPrefix = "model.";

    /// <summary>Writes <paramref name="model"/> and <paramref name="info"/> atomically.</summary>
    public static void Save(string path, ImageClassifier model, ClassifierInfo info)
    {
        if (info.ClassNames.Count != model.ClassCount) throw new ArgumentException($"{info.ClassNames.Count} class names for a classifier of {model.ClassCount} classes");
        if (info.Geometry != model.Geometry) throw new ArgumentException($"record geometry {info.Geometry} differs from the model's {model.Geometry}");
        using var scope = torch.NewDisposeScope();
        var tensors = model.state_dict().Select(p => new KeyValuePair<string, Tensor>(ModelPrefix + p.Key, p.Value.to(Device.CPU))).ToList();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            [DatasetLabels.ClassNamesKey] = DatasetLabels.EncodeClassNames(info.ClassNames),
            ["geometry"] = JsonSerializer.Serialize(new[] { info.Geometry.Channels, info.Geometry.Height, info.Geometry.Width }),
            ["normalisation"] = ImageClassifier.Normalisation,
            ["training_data_sha256"] = info.TrainingDataSha256,
            ["training"] = JsonSerializer.Serialize(info.Training, ProvenanceJson.Options),
            ["training_images"] = info.TrainingImages.ToString(CultureInfo.InvariantCulture),
            ["tool"] = ToolVersion.Describe(),
        };
        if (info.HeldOutAccuracy is { } accuracy) metadata["heldout_accuracy"] = accuracy.ToString("R", CultureInfo.InvariantCulture);
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>Opens a checkpoint and builds its classifier on <paramref name="device"/> (CPU by default), in eval mode.</summary>
    public static TrainedClassifier Load(string path, Device? device = null)
    {
        using var file = ArtifactFile.Open(path, FormatName, "a classifier checkpoint", "make one with `ambient classifier train`");
        var info = ReadInfo(file);
        var model = new ImageClassifier(info.Geometry, info.ClassNames.Count);
        try
        {
            using (var scope = torch.NewDisposeScope())
            {
                var state = model.state_dict().Keys.ToDictionary(k => k, k => file.Contains(ModelPrefix + k)
                    ? file.GetTensor(ModelPrefix + k)
                    : throw new InvalidDataException($"{path}: no '{ModelPrefix + k}' tensor for the classifier's parameter '{k}'"));
                foreach (var (name, tensor) in state) FiniteValues.Require(tensor, $"classifier checkpoint {path}", ModelPrefix + name);
                model.load_state_dict(state);
            }
            model.to(device ?? Device.CPU);
            model.eval();
            return new TrainedClassifier(model, info);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: cannot load the classifier's weights: {e.Message}", e);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static ClassifierInfo ReadInfo(SafeTensorsFile file)
    {
        string Require(string key) => file.Metadata.TryGetValue(key, out var value) ? value : throw new InvalidDataException($"{file.Path}: classifier metadata has no '{key}'");
        var names = DatasetLabels.ReadClassNames(file) ?? throw new InvalidDataException($"{file.Path}: classifier metadata has no '{DatasetLabels.ClassNamesKey}'");
        int[]? geometry;
        try
        {
            geometry = JsonSerializer.Deserialize<int[]>(Require("geometry"));
        }
        catch (JsonException)
        {
            geometry = null;
        }
        if (geometry is not { Length: 3 }) throw new InvalidDataException($"{file.Path}: metadata 'geometry' is '{Require("geometry")}', expected [C, H, W]");
        var normalisation = Require("normalisation");
        if (normalisation != ImageClassifier.Normalisation)
            throw new InvalidDataException($"{file.Path}: normalisation '{normalisation}', this version uses '{ImageClassifier.Normalisation}'");
        var training = JsonSerializer.Deserialize<ClassifierTrainingOptions>(Require("training"), ProvenanceJson.Options) ?? new ClassifierTrainingOptions();
        double? accuracy = file.Metadata.TryGetValue("heldout_accuracy", out var a) && double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
        var images = int.TryParse(Require("training_images"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new ClassifierInfo(names, new ClassifierGeometry(geometry[0], geometry[1], geometry[2]), Require("training_data_sha256"), accuracy, training, images);
    }
}
