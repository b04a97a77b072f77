using AmbientDiffusion.Common;

namespace AmbientDiffusion.Memorization;

/// <summary>
/// The membership-inference attacks' settings (the <c>memorization.membership</c> keys and <c>ambient memorization
/// --membership</c>); the only place their defaults and bounds live. The attacks themselves are in <c>Membership/</c>.
/// </summary>
public record MembershipSettings
{
    /// <summary>Noise levels of the loss attack (in [-1, 1] pixel units, as the sampler's σ); its score averages the
    /// EDM-weighted denoising error over them.</summary>
    public double[] Sigmas { get; init; } = [0.05, 0.1, 0.2, 0.4];

    /// <summary>Noise draws per image and σ (fixed, keyed by seed, set, image and draw).</summary>
    public int NoiseDraws { get; init; } = 4;

    /// <summary>PIA's noise level: x_σ = x + σ·ε̂₀. 0.72 is where PIA's DDPM setting (t = 200 of 1000, linear β from
    /// 1e-4 to 0.02) lies on EDM's σ scale: σ = √((1 − ᾱ_t)/ᾱ_t).</summary>
    public double PiaSigma { get; init; } = 0.72;

    /// <summary>PIA's "t = 0": the tiny σ at which the model's own noise estimate ε̂₀ of the clean image is taken
    /// (the sampler's σ_min by default).</summary>
    public double PiaProbeSigma { get; init; } = 0.002;

    /// <summary>PIA's distance: the ℓ_p norm's power p of ε̂₀ − ε̂(x_σ, σ) (4 in Kong et al.'s code).</summary>
    public double PiaNorm { get; init; } = 4;

    /// <summary>Images per set at most (members, non-members); a seeded subset beyond.</summary>
    public int MaxImages { get; init; } = 1000;

    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Attack the EMA weights (what the samples come from) or, with false, the raw weights.</summary>
    public bool Ema { get; init; } = true;

    /// <summary>Seed of the noise draws, masks and subsets (<c>memorization.membership.seed</c>, not the experiment's seed:
    /// runs of different seeds are attacked with the same draws and subsets).</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Sigmas is { Length: >= 1 and <= 32 } && Sigmas.All(s => s is > 0 and <= 80), "sigmas", Sigmas, "1 to 32 noise levels in (0, 80]");
        SettingException.Check(NoiseDraws is >= 1 and <= 256, "noise_draws", NoiseDraws, "1 to 256 draws");
        SettingException.Check(PiaSigma is > 0 and <= 80, "pia_sigma", PiaSigma, "a noise level in (0, 80]");
        SettingException.Check(PiaProbeSigma > 0 && PiaProbeSigma < PiaSigma, "pia_probe_sigma", PiaProbeSigma, $"a noise level in (0, pia_sigma = {SettingException.Format(PiaSigma)})");
        SettingException.Check(PiaNorm is >= 1 and <= 8, "pia_norm", PiaNorm, "a power in [1, 8]");
        SettingException.Check(MaxImages is >= 2 and <= 1_000_000, "max_images", MaxImages, "2 to 1000000 images per set");
        SettingException.Check(BatchSize is >= 1 and <= 4096, "batch_size", BatchSize, "1 to 4096 images");
    }
}
