using System.Globalization;
using System.Text.RegularExpressions;
using AmbientDiffusion.Common;

namespace AmbientDiffusion.Inverse;

/// <summary>The forward operators of the inverse problems: A(x) in y = A(x) + σ_y·z.</summary>
public enum OperatorKind
{
    /// <summary>Random inpainting: each pixel removed with probability p (the official code's "dust").</summary>
    Pixel,
    /// <summary>One square of area fraction p removed.</summary>
    Box,
    /// <summary>k×k tiles, each removed with probability p.</summary>
    Patch,
    /// <summary>Average pooling by k (×k super-resolution).</summary>
    Pool,
    /// <summary>Convolution with a normalised Gaussian kernel (zero padding).</summary>
    GaussianBlur,
    /// <summary>Convolution with a seeded random motion kernel per image (zero padding).</summary>
    MotionBlur,
    /// <summary>m random Gaussian projections of the whole image, entries N(0, 1/m).</summary>
    Cs,
}

/// <summary>
/// A forward operator as plain settings: what <c>ambient measure</c> takes, what a measurement artifact stores (JSON)
/// and what <see cref="Describe"/> prints and <see cref="Parse"/> reads back, e.g. <c>gaussian_blur(size=9, sigma=2)</c>
/// or <c>pixel(p=0.9) + noise(sigma=0.05)</c>. Its defaults and bounds live here only.
/// </summary>
public sealed record OperatorSpec
{
    /// <summary>The operator family.</summary>
    public OperatorKind Kind { get; init; } = OperatorKind.Pixel;

    /// <summary>Fraction of pixels (pixel, box) or patches (patch) removed.</summary>
    public double P { get; init; } = 0.6;

    /// <summary>Patch side for patch masks.</summary>
    public int PatchSize { get; init; } = 4;

    /// <summary>Pooling factor k of <see cref="OperatorKind.Pool"/>; the image side must be a multiple of it.</summary>
    public int Factor { get; init; } = 4;

    /// <summary>Side of the (square, odd) blur kernel.</summary>
    public int KernelSize { get; init; } = 9;

    /// <summary>Standard deviation of the Gaussian blur kernel, in pixels.</summary>
    public double BlurSigma { get; init; } = 2.0;

    /// <summary>How much a motion trajectory turns, in (0, 1]: 0 is nearly a straight line.</summary>
    public double Intensity { get; init; } = 0.5;

    /// <summary>Number of compressed-sensing measurements m (at most C·H·W).</summary>
    public int Measurements { get; init; } = 200;

    /// <summary>Measurement noise σ_y in [-1, 1] units (0: none).</summary>
    public double NoiseSigma { get; init; }

    /// <summary>Whether the operator removes pixels (a mask: y lives in image space, zero where removed).</summary>
    public bool IsMask => Kind is OperatorKind.Pixel or OperatorKind.Box or OperatorKind.Patch;

    /// <summary>Throws <see cref="SettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        SettingException.Check(Enum.IsDefined(Kind), "operator", Kind, Yaml.Choices<OperatorKind>());
        SettingException.Check(P is > 0 and < 1, "p", P, "a fraction in (0, 1)");
        SettingException.Check(PatchSize is >= 1 and <= 256, "patch_size", PatchSize, "1 to 256 pixels");
        SettingException.Check(Factor is >= 2 and <= 64, "factor", Factor, "a pooling factor from 2 to 64");
        SettingException.Check(KernelSize is >= 3 and <= 63 && KernelSize % 2 == 1, "kernel_size", KernelSize, "an odd kernel side from 3 to 63");
        SettingException.Check(BlurSigma is > 0 and <= 20, "blur_sigma", BlurSigma, "a width in (0, 20] pixels");
        SettingException.Check(Intensity is > 0 and <= 1, "intensity", Intensity, "a value in (0, 1]");
        SettingException.Check(Measurements >= 1, "measurements", Measurements, "at least 1");
        SettingException.Check(NoiseSigma is >= 0 and <= 10 && double.IsFinite(NoiseSigma), "noise_sigma", NoiseSigma, "a noise level in [0, 10] ([-1, 1] pixel units)");
    }

    /// <summary>Throws when the operator cannot act on C×H×W images (pool factor, CS size).</summary>
    public void CheckGeometry(int channels, int height, int width)
    {
        if (Kind == OperatorKind.Pool && (height % Factor != 0 || width % Factor != 0))
            throw new SettingException("factor", Factor, $"a divisor of the image size {height}x{width}");
        if (Kind == OperatorKind.Cs && Measurements > channels * height * width)
            throw new SettingException("measurements", Measurements, $"at most C·H·W = {channels * height * width}");
        if (Kind is OperatorKind.GaussianBlur or OperatorKind.MotionBlur && KernelSize > 2 * Math.Min(height, width) + 1)
            throw new SettingException("kernel_size", KernelSize, $"at most {2 * Math.Min(height, width) + 1} for {height}x{width} images");
    }

    /// <summary>The compact form, e.g. <c>pool(k=4)</c>; <see cref="Parse"/> reads it back.</summary>
    public string Describe()
    {
        var body = Kind switch
        {
            OperatorKind.Pixel => $"pixel(p={F(P)})",
            OperatorKind.Box => $"box(p={F(P)})",
            OperatorKind.Patch => $"patch(k={PatchSize}, p={F(P)})",
            OperatorKind.Pool => $"pool(k={Factor})",
            OperatorKind.GaussianBlur => $"gaussian_blur(size={KernelSize}, sigma={F(BlurSigma)})",
            OperatorKind.MotionBlur => $"motion_blur(size={KernelSize}, intensity={F(Intensity)})",
            OperatorKind.Cs => $"cs(m={Measurements})",
            _ => throw new NotSupportedException(Kind.ToString()),
        };
        return NoiseSigma > 0 ? $"{body} + noise(sigma={F(NoiseSigma)})" : body;
    }

    private static string F(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static readonly Regex Term = new(@"^\s*([a-z_]+)\s*\(([^)]*)\)\s*$", RegexOptions.CultureInvariant);

    /// <summary>Reads <see cref="Describe"/>'s form; keys left out keep their defaults. Errors name the text and the key.</summary>
    public static OperatorSpec Parse(string text)
    {
        var spec = new OperatorSpec();
        var terms = text.Split('+');
        if (terms.Length > 2) throw new ArgumentException($"operator '{text}': expected one operator and at most one '+ noise(sigma=...)'");
        for (var t = 0; t < terms.Length; t++)
        {
            var match = Term.Match(terms[t]);
            if (!match.Success) throw new ArgumentException($"operator '{text}': '{terms[t].Trim()}' is not of the form name(key=value, ...)");
            var name = match.Groups[1].Value;
            var values = Arguments(text, match.Groups[2].Value);
            if (t == 1 || name == "noise")
            {
                if (t != 1 || name != "noise") throw new ArgumentException($"operator '{text}': noise(sigma=...) may only follow the operator after '+'");
                spec = spec with { NoiseSigma = Take(values, "sigma", text) ?? 0 };
            }
            else
            {
                var kinds = Enum.GetValues<OperatorKind>().Where(k => Yaml.EnumName(k) == name).ToList();
                if (kinds.Count != 1) throw new ArgumentException($"operator '{text}': unknown operator '{name}', expected {Yaml.Choices<OperatorKind>()}");
                var kind = kinds[0];
                spec = spec with { Kind = kind };
                spec = kind switch
                {
                    OperatorKind.Pixel or OperatorKind.Box => spec with { P = Take(values, "p", text) ?? spec.P },
                    OperatorKind.Patch => spec with { PatchSize = (int?)Take(values, "k", text) ?? spec.PatchSize, P = Take(values, "p", text) ?? spec.P },
                    OperatorKind.Pool => spec with { Factor = (int?)Take(values, "k", text) ?? spec.Factor },
                    OperatorKind.GaussianBlur => spec with { KernelSize = (int?)Take(values, "size", text) ?? spec.KernelSize, BlurSigma = Take(values, "sigma", text) ?? spec.BlurSigma },
                    OperatorKind.MotionBlur => spec with { KernelSize = (int?)Take(values, "size", text) ?? spec.KernelSize, Intensity = Take(values, "intensity", text) ?? spec.Intensity },
                    OperatorKind.Cs => spec with { Measurements = (int?)Take(values, "m", text) ?? spec.Measurements },
                    _ => spec,
                };
            }
            if (values.Count > 0) throw new ArgumentException($"operator '{text}': unknown key(s) {string.Join(", ", values.Keys)} for {name}");
        }
        spec.Validate();
        return spec;
    }

    private static Dictionary<string, double> Arguments(string text, string body)
    {
        var values = new Dictionary<string, double>();
        foreach (var pair in body.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"operator '{text}': '{pair}' is not key=number");
            values[parts[0]] = value;
        }
        return values;
    }

    private static double? Take(Dictionary<string, double> values, string key, string text)
    {
        if (!values.Remove(key, out var value)) return null;
        return double.IsFinite(value) ? value : throw new ArgumentException($"operator '{text}': {key} = {value} is not finite");
    }
}
