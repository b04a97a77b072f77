using AmbientDiffusion.Common;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Training;

/// <summary>`ambient export`: a checkpoint's network as an <see cref="EdmNetworkFile"/>, which the reference code loads
/// with <c>load_state_dict(strict=True)</c> (tools/load_edm_snapshot.py).</summary>
public static class EdmNetworkExport
{
    /// <summary>Writes the network of the checkpoint at <paramref name="checkpointPath"/> (its EMA weights with
    /// <paramref name="ema"/>) to <paramref name="outputPath"/>, whole or not at all. A network no reference code
    /// computes (an ambient model's mask input, the single-σ gate) is an error before anything is written.</summary>
    public static void Export(string checkpointPath, string outputPath, bool ema = true)
    {
        using var file = Checkpoint.Open(checkpointPath);
        var header = CheckpointHeader.Read(file);
        try
        {
            EdmNetworkFile.CheckExportable(header.Model, header.Geometry);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{checkpointPath}: {e.Message}", e);
        }
        using var dropout = new Generator(0);
        using var denoiser = Checkpoint.LoadDenoiser(file, header, dropout, Device.CPU, ema);
        using var scope = torch.NewDisposeScope();
        var tensors = EdmStateDictMapping.ToReference(denoiser);
        var source = $"{ToolVersion.Describe()}, {Path.GetFileName(checkpointPath)} ({(ema ? "EMA" : "raw")} weights) of run '{header.RunName}'";
        SafeTensors.Save(outputPath, tensors, EdmNetworkFile.Metadata(header.Model, header.Geometry, source));
    }
}
