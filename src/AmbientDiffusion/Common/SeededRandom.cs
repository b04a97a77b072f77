namespace AmbientDiffusion.Common;

/// <summary>
/// A small, fast, deterministic generator (xoshiro256**, seeded through SplitMix64) keyed by a seed and a path of
/// integers such as (image index) or (epoch, batch). Every per-image corruption and every shuffle draws from its own
/// keyed instance, never from global state, so results do not depend on iteration order, threads or batch size,
/// and are identical on every machine and .NET version.
/// </summary>
public sealed class SeededRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareGaussian;

    /// <summary>A generator for <paramref name="seed"/> and the stream <paramref name="keys"/>.</summary>
    public SeededRandom(ulong seed, params ReadOnlySpan<ulong> keys)
    {
        var state = SplitMix(seed ^ 0x6A09E667F3BCC908UL);
        foreach (var key in keys) state = SplitMix(state ^ SplitMix(key + 0x9E3779B97F4A7C15UL));
        _s0 = SplitMix(state += 0x9E3779B97F4A7C15UL);
        _s1 = SplitMix(state += 0x9E3779B97F4A7C15UL);
        _s2 = SplitMix(state += 0x9E3779B97F4A7C15UL);
        _s3 = SplitMix(state + 0x9E3779B97F4A7C15UL);
    }

    private static ulong SplitMix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer on [0, <paramref name="maxExclusive"/>), without modulo bias (Lemire's method).</summary>
    public long NextInt64(long maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        var range = (ulong)maxExclusive;
        var product = Math.BigMul(NextUInt64(), range, out var low);
        if (low < range)
        {
            var threshold = (0 - range) % range;
            while (low < threshold) product = Math.BigMul(NextUInt64(), range, out low);
        }
        return (long)product;
    }

    /// <summary>Uniform integer on [0, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int maxExclusive) => (int)NextInt64(maxExclusive);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool NextBernoulli(double p) => NextDouble() < p;

    /// <summary>A standard normal sample (Box-Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (_spareGaussian is { } spare)
        {
            _spareGaussian = null;
            return spare;
        }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        var u2 = NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareGaussian = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A uniformly random permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var result = new int[n];
        for (var i = 0; i < n; i++) result[i] = i;
        Shuffle<int>(result);
        return result;
    }
}
