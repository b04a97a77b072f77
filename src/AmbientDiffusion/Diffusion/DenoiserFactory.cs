using AmbientDiffusion.Models;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Diffusion;

/// <summary>The one place a denoiser is built: EDM's preconditioning around the configured U-Net.</summary>
public static class DenoiserFactory
{
    /// <summary>The preconditioned U-Net of <paramref name="model"/> for <paramref name="geometry"/> (class-conditional when its label dimension is above 0), initial weights drawn
    /// from <paramref name="init"/> and dropout masks from <paramref name="dropout"/> (which must live as long as the model).</summary>
    public static EdmPreconditioner Create(ModelSettings model, NetworkGeometry geometry, Generator init, Generator dropout) =>
        new(new DdpmUNet(model.ToUNetOptions(geometry), init, dropout),
            perPixelHidden: model.MaskPreconditioning == MaskPreconditioning.PerPixel);
}
