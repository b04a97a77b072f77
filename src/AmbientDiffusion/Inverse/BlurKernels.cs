using AmbientDiffusion.Common;

namespace AmbientDiffusion.Inverse;

/// <summary>Square blur kernels that sum to 1: Gaussian, and random motion trajectories (one per seeded stream).</summary>
public static class BlurKernels
{
    /// <summary>The normalised size×size Gaussian of standard deviation <paramref name="sigma"/> (row-major).</summary>
    public static double[] Gaussian(int size, double sigma)
    {
        var c = (size - 1) / 2.0;
        var line = Enumerable.Range(0, size).Select(i => Math.Exp(-(i - c) * (i - c) / (2 * sigma * sigma))).ToArray();
        var kernel = new double[size * size];
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++) kernel[y * size + x] = line[y] * line[x];
        return Normalise(kernel);
    }

    /// <summary>
    /// A camera-shake kernel: a random walk of half-pixel steps whose heading turns by N(0, (intensity·π/4)²) per step,
    /// centred on its mean point and splatted bilinearly onto the grid, then normalised. The walk covers about the
    /// kernel's side, so larger kernels blur further.
    /// </summary>
    public static double[] Motion(int size, double intensity, SeededRandom random)
    {
        var steps = 2 * (size - 1);
        var heading = 2 * Math.PI * random.NextDouble();
        var points = new (double y, double x)[steps + 1];
        for (var i = 1; i <= steps; i++)
        {
            heading += intensity * Math.PI / 4 * random.NextGaussian();
            points[i] = (points[i - 1].y + 0.5 * Math.Sin(heading), points[i - 1].x + 0.5 * Math.Cos(heading));
        }
        var (my, mx) = (points.Average(p => p.y), points.Average(p => p.x));
        var c = (size - 1) / 2.0;
        var kernel = new double[size * size];
        foreach (var (py, px) in points)
        {
            var (y, x) = (py - my + c, px - mx + c);
            var (y0, x0) = ((int)Math.Floor(y), (int)Math.Floor(x));
            var (fy, fx) = (y - y0, x - x0);
            Splat(kernel, size, y0, x0, (1 - fy) * (1 - fx));
            Splat(kernel, size, y0, x0 + 1, (1 - fy) * fx);
            Splat(kernel, size, y0 + 1, x0, fy * (1 - fx));
            Splat(kernel, size, y0 + 1, x0 + 1, fy * fx);
        }
        // A walk that left the grid entirely cannot happen (it is centred), but keep the centre tap as a floor.
        if (kernel.Sum() <= 0) kernel[(size / 2) * size + size / 2] = 1;
        return Normalise(kernel);
    }

    private static void Splat(double[] kernel, int size, int y, int x, double weight)
    {
        if (y >= 0 && y < size && x >= 0 && x < size) kernel[y * size + x] += weight;
    }

    private static double[] Normalise(double[] kernel)
    {
        var sum = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++) kernel[i] /= sum;
        return kernel;
    }
}
