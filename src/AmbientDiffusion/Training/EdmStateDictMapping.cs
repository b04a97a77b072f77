using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>
/// The one mapping between the state_dict of EDM's <c>EDMPrecond</c> (with the ambient code's <c>gate_weight</c>s) and
/// this product's denoiser, used by import and export alike. Parameters keep their names: the product's U-Net registers
/// EDM's module names (<c>model.map_layer0</c>, <c>model.enc.32x32_block0.conv0</c>, <c>model.dec.32x32_aux_conv</c>,
/// ...). The reference holds two kinds of tensors the product does not:
/// <list type="bullet">
/// <item><c>resample_filter</c> buffers of the resampling convolutions (conv0 and skip of every <c>_down</c> and
/// <c>_up</c> block): the [1,1] filter, which the product computes as average pooling and nearest upsampling.
/// Export writes them; import checks them.</item>
/// <item><c>model.map_augment.weight</c>, EDM's augmentation conditioning (augment_dim &gt; 0), which sampling never
/// feeds: import skips it.</item>
/// </list>
/// </summary>
public static class EdmStateDictMapping
{
    private const string ResampleFilter = "resample_filter";
    private const string AugmentWeight = "model.map_augment.weight";

    /// <summary>A reference tensor: its name and shape, and the product parameter it is (null for the reference-only
    /// tensors described on the class).</summary>
    public sealed record Entry(string ReferenceName, long[] Shape, string? ProductName);

    /// <summary>The reference state_dict of <paramref name="denoiser"/>'s architecture (with <paramref name="augmentDim"/>
    /// &gt; 0, EDM's augmentation conditioning too), in the reference's order: each module's parameters, then its buffers.</summary>
    public static IReadOnlyList<Entry> Entries(EdmPreconditioner denoiser, int augmentDim = 0)
    {
        var entries = new List<Entry>();
        string? resampling = null;
        foreach (var (name, parameter) in denoiser.named_parameters())
        {
            var module = name[..name.LastIndexOf('.')];
            if (resampling is not null && resampling != module) AddFilter();
            // EDMPrecond registers map_label, map_augment, map_layer0 in this order; map_augment maps to the noise channels.
            if (name == "model.map_layer0.weight" && augmentDim > 0) entries.Add(new Entry(AugmentWeight, [parameter.shape[1], augmentDim], null));
            entries.Add(new Entry(name, parameter.shape, name));
            if (IsResampling(module)) resampling = module;
        }
        if (resampling is not null) AddFilter();
        return entries;

        void AddFilter()
        {
            entries.Add(new Entry($"{resampling}.{ResampleFilter}", [1, 1, 2, 2], null));
            resampling = null;
        }
    }

    private static bool IsResampling(string module) =>
        module.EndsWith("_down.conv0", StringComparison.Ordinal) || module.EndsWith("_down.skip", StringComparison.Ordinal)
        || module.EndsWith("_up.conv0", StringComparison.Ordinal) || module.EndsWith("_up.skip", StringComparison.Ordinal);

    /// <summary>
    /// The product's state_dict (float32) from a reference file holding <paramref name="entries"/>. The first tensor
    /// that does not match (missing, of another shape, not part of the architecture, or a resampling filter other
    /// than [1,1]) is an error naming it.
    /// </summary>
    public static Dictionary<string, Tensor> FromReference(SafeTensorsFile file, IReadOnlyList<Entry> entries)
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var entry in entries)
        {
            if (!file.Contains(entry.ReferenceName))
                throw new InvalidDataException($"{file.Path}: tensor '{entry.ReferenceName}' is missing (the architecture in the file's network_kwargs has it, shape [{Shape(entry.Shape)}])");
            var shape = file.Info(entry.ReferenceName).Shape;
            if (!shape.SequenceEqual(entry.Shape))
                throw new InvalidDataException($"{file.Path}: tensor '{entry.ReferenceName}' has shape [{Shape(shape)}], but the architecture in the file's network_kwargs gives [{Shape(entry.Shape)}]");
            if (entry.ProductName is not null)
            {
                state[entry.ProductName] = file.GetTensor(entry.ReferenceName).to(ScalarType.Float32);
            }
            else if (entry.ReferenceName.EndsWith(ResampleFilter, StringComparison.Ordinal))
            {
                using var filter = file.GetTensor(entry.ReferenceName).to(ScalarType.Float32);
                if (!filter.eq(0.25).all().item<bool>())
                    throw new InvalidDataException($"{file.Path}: tensor '{entry.ReferenceName}' is not the [1,1] resampling filter (0.25 everywhere) this product computes");
            }
        }
        var expected = entries.Select(e => e.ReferenceName).ToHashSet(StringComparer.Ordinal);
        var unexpected = file.Keys.FirstOrDefault(k => !expected.Contains(k));
        if (unexpected is not null)
            throw new InvalidDataException($"{file.Path}: tensor '{unexpected}' is not part of the architecture in the file's network_kwargs (another network, or another configuration of it)");
        return state;
    }

    /// <summary>The reference state_dict of <paramref name="denoiser"/> (no augmentation conditioning), loadable by
    /// <c>EDMPrecond.load_state_dict(strict=True)</c> of the network <see cref="EdmNetworkFile.Metadata"/> describes.</summary>
    public static List<KeyValuePair<string, Tensor>> ToReference(EdmPreconditioner denoiser)
    {
        var parameters = denoiser.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return Entries(denoiser).Select(e => new KeyValuePair<string, Tensor>(e.ReferenceName,
            e.ProductName is not null ? parameters[e.ProductName] : torch.full(e.Shape, 0.25, ScalarType.Float32))).ToList();
    }

    private static string Shape(long[] shape) => string.Join(", ", shape);
}
