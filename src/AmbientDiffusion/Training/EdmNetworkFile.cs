using System.Text.Json;
using AmbientDiffusion.Common;
using AmbientDiffusion.Models;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>The architecture a network file describes, as this product's model settings and geometry.</summary>
/// <param name="Model">The <c>model:</c> settings that build the same network.</param>
/// <param name="Geometry">Image side and channels (no mask channels) and label dimension.</param>
/// <param name="AugmentDim">Width of EDM's augmentation conditioning (<c>map_augment</c>, 0: none), which sampling never
/// uses, so the product's network has none.</param>
/// <param name="Source">Where the file says the network came from.</param>
public sealed record EdmArchitecture(ModelSettings Model, NetworkGeometry Geometry, int AugmentDim, string Source);

/// <summary>
/// The network file shared with EDM (NVlabs/edm) and the official ambient code (giannisdaras/ambient-diffusion):
/// safetensors holding an <c>EDMPrecond</c>'s state_dict under its own names and, as metadata, the constructor
/// arguments of the preconditioner and its <c>SongUNet</c>. <c>tools/export_edm_snapshot.py</c> writes it from a
/// snapshot pickle, <c>tools/load_edm_snapshot.py</c> builds the reference network from it (tools/edm_safetensors.py
/// is the Python side of this class). This class is the only code that knows the metadata keys and the meaning of each
/// constructor argument; <see cref="EdmStateDictMapping"/> owns the tensor names.
/// </summary>
public static class EdmNetworkFile
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "edm-network-snapshot/1";

    private const string ClassKey = "network_class";
    private const string KwargsKey = "network_kwargs";
    private const string SourceKey = "source";
    private const string Preconditioner = "EDMPrecond";
    private const string Network = "SongUNet";

    /// <summary>The official ambient code's repository, whose convolutions are gated (and gate with σ twice).</summary>
    public const string AmbientSource = "giannisdaras/ambient-diffusion";

    /// <summary>Opens a network file and checks its format.</summary>
    public static SafeTensorsFile Open(string path) =>
        ArtifactFile.Open(path, FormatName, "an EDM network file", "write one from an EDM or ambient-diffusion snapshot with tools/export_edm_snapshot.py");

    // Arguments that change only training or the sampler's σ range, never D(x, σ): read and not carried over.
    private static readonly string[] Ignored = ["use_fp16", "sigma_min", "sigma_max", "label_dropout"];

    /// <summary>
    /// The architecture in a network file's metadata. Every constructor argument is read; one this product's network
    /// cannot represent (another preconditioner or network class, Fourier embeddings, other resampling filters, ...),
    /// or one it does not know, is an error naming the argument, its value and what is expected.
    /// </summary>
    public static EdmArchitecture ReadArchitecture(SafeTensorsFile file)
    {
        string Meta(string key) => file.Metadata.TryGetValue(key, out var value) ? value : throw new InvalidDataException($"{file.Path}: metadata has no '{key}'");
        var className = Meta(ClassKey);
        if (className.Split('.')[^1] != Preconditioner)
            throw new InvalidDataException($"{file.Path}: {ClassKey} = '{className}': only {Preconditioner} (EDM's preconditioning) can be imported");
        Dictionary<string, JsonElement> kwargs;
        try
        {
            kwargs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Meta(KwargsKey)) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.Path}: metadata '{KwargsKey}' is not a JSON object ({e.Message})", e);
        }
        var source = file.Metadata.TryGetValue(SourceKey, out var s) ? s : "";
        var read = new HashSet<string>(Ignored);
        Exception Bad(string key, string expected) =>
            new InvalidDataException($"{file.Path}: {KwargsKey}.{key} = {(kwargs.TryGetValue(key, out var v) ? v.GetRawText() : "(missing)")}: expected {expected}");
        JsonElement Get(string key)
        {
            read.Add(key);
            return kwargs.TryGetValue(key, out var value) ? value : throw Bad(key, "a value (the file lists every constructor argument)");
        }
        int Int(string key) => Get(key) is { ValueKind: JsonValueKind.Number } e && e.TryGetInt32(out var v) ? v : throw Bad(key, "an integer");
        List<int> Ints(string key) => Get(key) is { ValueKind: JsonValueKind.Array } e && e.EnumerateArray().All(x => x.TryGetInt32(out _))
            ? e.EnumerateArray().Select(x => x.GetInt32()).ToList() : throw Bad(key, "a list of integers");
        void Require(string key, string expected)
        {
            if (JsonSerializer.Serialize(Get(key)) != expected) throw Bad(key, $"{expected} (this product's DDPM++ network)");
        }

        Require("model_type", $"\"{Network}\"");
        Require("embedding_type", "\"positional\"");
        Require("channel_mult_noise", "1");
        Require("channel_mult_emb", "4");
        Require("encoder_type", "\"standard\"");
        Require("decoder_type", "\"standard\"");
        Require("resample_filter", "[1,1]");
        var sigmaData = Get("sigma_data");
        if (sigmaData.ValueKind != JsonValueKind.Number || sigmaData.GetDouble() != 0.5) throw Bad("sigma_data", "0.5 (the product's σ_d)");
        var channels = Int("img_channels");
        // The official ambient training loop feeds image and mask channels together (both scaled by c_in) and reads
        // as many outputs; this product's ambient network takes an unscaled mask and outputs the image only.
        if (source == AmbientSource && channels is 2 or 6)
            throw Bad("img_channels", "1 or 3 image channels: the official ambient training layout (image and mask concatenated before the preconditioning, so the mask is scaled by c_in, and 2C outputs) has no counterpart in this product's network");
        var gated = kwargs.ContainsKey("gated") && (Get("gated").ValueKind is JsonValueKind.True or JsonValueKind.False ? Get("gated").GetBoolean() : throw Bad("gated", "true or false"));
        var augmentDim = Int("augment_dim");
        if (augmentDim < 0) throw Bad("augment_dim", "0 or more");
        var dropout = Get("dropout") is { ValueKind: JsonValueKind.Number } d ? d.GetDouble() : throw Bad("dropout", "a number");
        var labelDim = Int("label_dim");
        var model = new ModelSettings
        {
            ModelChannels = Int("model_channels"),
            ChannelMult = Ints("channel_mult"),
            NumBlocks = Int("num_blocks"),
            AttnResolutions = Ints("attn_resolutions"),
            Dropout = dropout,
            Gated = gated,
            // The official ambient code applies σ twice in its gate; what it trained is what must run here.
            GateActivation = gated ? GateActivation.SigmoidTwice : null,
            LabelDim = labelDim,
        };
        var geometry = new NetworkGeometry(Int("img_resolution"), channels, 0, labelDim);
        var unknown = kwargs.Keys.FirstOrDefault(k => !read.Contains(k));
        if (unknown is not null) throw Bad(unknown, "no such argument: it is not one this product knows how to represent");
        try
        {
            model.Validate();
        }
        catch (SettingException e)
        {
            throw new InvalidDataException($"{file.Path}: {KwargsKey}: {e.Message}", e);
        }
        if (geometry.Resolution < 1 || geometry.ImageChannels < 1 || labelDim < 0)
            throw new InvalidDataException($"{file.Path}: {KwargsKey}: img_resolution {geometry.Resolution}, img_channels {channels} and label_dim {labelDim} must be positive (label_dim >= 0)");
        return new EdmArchitecture(model, geometry, augmentDim, source);
    }

    /// <summary>
    /// The metadata that describes the network of <paramref name="model"/> and <paramref name="geometry"/> to the
    /// reference code: every constructor argument, so its <c>load_state_dict(strict=True)</c> accepts the tensors of
    /// <see cref="EdmStateDictMapping.ToReference"/>. Gated networks name the ambient code (EDM has no gated
    /// convolutions). Networks the reference code cannot compute are an error, before anything is written.
    /// </summary>
    public static Dictionary<string, string> Metadata(ModelSettings model, NetworkGeometry geometry, string source)
    {
        CheckExportable(model, geometry);
        var kwargs = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["img_resolution"] = geometry.Resolution,
            ["img_channels"] = geometry.ImageChannels,
            ["label_dim"] = geometry.LabelDim,
            ["use_fp16"] = false,
            ["sigma_min"] = 0,
            ["sigma_max"] = "inf",
            ["sigma_data"] = 0.5,
            ["model_type"] = Network,
            ["augment_dim"] = 0,
            ["model_channels"] = model.ModelChannels,
            ["channel_mult"] = model.ChannelMult,
            ["channel_mult_emb"] = 4,
            ["num_blocks"] = model.NumBlocks,
            ["attn_resolutions"] = model.AttnResolutions,
            ["dropout"] = model.Dropout,
            ["label_dropout"] = 0,
            ["embedding_type"] = "positional",
            ["channel_mult_noise"] = 1,
            ["encoder_type"] = "standard",
            ["decoder_type"] = "standard",
            ["resample_filter"] = new[] { 1, 1 },
        };
        if (model.Gated) kwargs["gated"] = true;
        return new Dictionary<string, string>
        {
            ["format"] = FormatName,
            [ClassKey] = $"training.networks.{Preconditioner}",
            [KwargsKey] = JsonSerializer.Serialize(kwargs),
            [SourceKey] = source,
        };
    }

    /// <summary>Throws when no reference code computes the network of <paramref name="model"/> and <paramref name="geometry"/>.</summary>
    public static void CheckExportable(ModelSettings model, NetworkGeometry geometry)
    {
        if (geometry.MaskChannels > 0)
            throw new InvalidDataException($"the model takes {geometry.MaskChannels} mask channel(s) (an ambient model): EDM's SongUNet takes image channels only, and the official ambient code scales its mask channels by c_in and outputs them too, so neither computes this network");
        if (model.Gated && model.GateActivation != GateActivation.SigmoidTwice)
            throw new InvalidDataException("model.gated with gate_activation sigmoid: the official ambient code's gated convolution applies σ twice (gate_activation: sigmoid_twice) and EDM has none, so no reference code computes this network");
    }
}
