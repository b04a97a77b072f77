using AmbientDiffusion.Config;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Models;

/// <summary>Builds the configured network for a dataset's geometry.</summary>
public static class ModelFactory
{
    /// <summary>The U-Net of <paramref name="section"/> for images of the given channels and resolution.</summary>
    public static NoiseConditionedNetwork Create(ModelSection section, int imageChannels, int maskChannels, int resolution, Generator init, Generator dropout) =>
        new DdpmUNet(Options(section, imageChannels, maskChannels, resolution), init, dropout);

    /// <summary>The U-Net options of a config section.</summary>
    public static UNetOptions Options(ModelSection section, int imageChannels, int maskChannels, int resolution) =>
        new(resolution, imageChannels, maskChannels, section.ModelChannels, section.ChannelMult, section.NumBlocks, section.AttnResolutions, section.Dropout, section.Gated);
}
