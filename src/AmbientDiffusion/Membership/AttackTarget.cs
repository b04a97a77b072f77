using AmbientDiffusion.Diffusion;
using AmbientDiffusion.Models;
using AmbientDiffusion.Sampling;
using AmbientDiffusion.Torch;
using AmbientDiffusion.Training;

namespace AmbientDiffusion.Membership;

/// <summary>
/// The attacked denoiser and how it is called: D(M ⊙ x, σ, M, label) for models that take a mask (ambient), with the
/// masks their training implies (<see cref="FixedMaskSampling"/>); D(x, σ, label) otherwise. Labels are the images'
/// own classes for a class-conditional model (the null label where an image has none).
/// </summary>
public sealed class AttackTarget : IDisposable
{
    private readonly Generator? _dropout;

    /// <summary>Wraps a denoiser already in eval mode; <paramref name="masking"/> is required exactly when it takes masks.</summary>
    public AttackTarget(EdmPreconditioner model, FixedMaskSampling? masking, double kimg = double.NaN, string checkpoint = "")
        : this(model, masking, null, kimg, checkpoint) { }

    private AttackTarget(EdmPreconditioner model, FixedMaskSampling? masking, Generator? dropout, double kimg, string checkpoint)
    {
        if ((model.Network.MaskChannels > 0) != (masking is not null))
            throw new ArgumentException(model.Network.MaskChannels > 0 ? "this model takes masks: the attack needs the masks its training implies" : "this model takes no mask");
        (Model, Masking, _dropout, Kimg, Checkpoint) = (model, masking, dropout, kimg, checkpoint);
        Device = model.parameters().FirstOrDefault()?.device ?? Device.CPU;
    }

    /// <summary>Loads a checkpoint's EMA (or raw) weights onto <paramref name="device"/>.</summary>
    public static AttackTarget Load(string checkpointPath, Device device, bool ema)
    {
        using var file = Training.Checkpoint.Open(checkpointPath);
        var header = CheckpointHeader.Read(file);
        var mode = SamplingModes.For(header, checkpointPath);
        var dropout = new Generator(0);
        try
        {
            var model = Training.Checkpoint.LoadDenoiser(file, header, dropout, device, ema);
            return new AttackTarget(model, mode as FixedMaskSampling, dropout, header.State.ImagesSeen / 1000.0, Path.GetFullPath(checkpointPath));
        }
        catch
        {
            dropout.Dispose();
            throw;
        }
    }

    /// <summary>The denoiser, in eval mode.</summary>
    public EdmPreconditioner Model { get; }

    /// <summary>How masks are drawn for a model that takes them; null for one that does not.</summary>
    public FixedMaskSampling? Masking { get; }

    /// <summary>Training progress of the checkpoint (NaN when the model did not come from one).</summary>
    public double Kimg { get; }

    /// <summary>The checkpoint file ("" when the model did not come from one).</summary>
    public string Checkpoint { get; }

    /// <summary>Where the model lives.</summary>
    public Device Device { get; }

    /// <summary>The denoised estimate of <paramref name="x"/> [B, C, H, W] at <paramref name="sigma"/>; the input is
    /// masked by <paramref name="masks"/> [B, Cm, H, W] for a model that takes masks. <paramref name="labels"/>: class
    /// ids (<see cref="ClassLabels.Null"/> for none), used only by a class-conditional model.</summary>
    public Tensor Denoise(Tensor x, double sigma, Tensor? masks, IReadOnlyList<long>? labels)
    {
        using var scope = torch.NewDisposeScope();
        var input = x.to(ScalarType.Float32, Device);
        var maskInput = Masking is null ? null : (masks ?? throw new ArgumentException("this model takes masks")).to(ScalarType.Float32, Device);
        if (maskInput is not null) input = input * maskInput;
        var labelDim = Model.Network.LabelDim;
        var labelInput = labelDim == 0 ? null
            : ClassLabels.OneHot(labels ?? Enumerable.Repeat(ClassLabels.Null, (int)x.shape[0]).ToArray(), labelDim, Device);
        var sigmas = torch.full([x.shape[0]], sigma, ScalarType.Float32, Device);
        return scope.MoveToOuter(Model.forward(input, sigmas, maskInput, labelInput).to(ScalarType.Float32, Device.CPU));
    }

    /// <summary>EDM's loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)²: the weight training gave the error at σ.</summary>
    public double LossWeight(double sigma) => (sigma * sigma + Model.SigmaData * Model.SigmaData) / Math.Pow(sigma * Model.SigmaData, 2);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_dropout is null) return; // a model handed in stays its owner's
        Model.Dispose();
        _dropout.Dispose();
    }
}
