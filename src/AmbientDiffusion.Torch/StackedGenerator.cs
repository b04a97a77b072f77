namespace AmbientDiffusion.Torch;

/// <summary>
/// One <see cref="Generator"/> per row of a batch (EDM's StackedRandomGenerator): every draw is made row by row, each
/// row from its own generator, and stacked, so a row's numbers depend on its seed alone and never on the batch it
/// shares or its place in it. Draws are made on the CPU, like <see cref="Generator"/>'s. Owns its generators.
/// </summary>
public sealed class StackedGenerator : IDisposable
{
    private readonly Generator[] _rows;

    /// <summary>One generator per seed, in row order.</summary>
    public StackedGenerator(IEnumerable<ulong> seeds)
    {
        var rows = new List<Generator>();
        try
        {
            foreach (var seed in seeds) rows.Add(new Generator(seed));
        }
        catch
        {
            foreach (var row in rows) row.Dispose();
            throw;
        }
        _rows = [.. rows];
    }

    /// <summary>The number of rows.</summary>
    public int Count => _rows.Length;

    /// <summary>The generator of row <paramref name="row"/>, for draws that are not a plain tensor per row (e.g. rejection).</summary>
    public Generator this[int row] => _rows[row];

    /// <summary>Standard normal [rows, ..<paramref name="rowShape"/>] on the CPU.</summary>
    public Tensor randn(long[] rowShape, ScalarType dtype = ScalarType.Float32) => Stack(g => torch.randn(rowShape, dtype, Device.CPU, g));

    /// <summary>Uniform on [0, 1), [rows, ..<paramref name="rowShape"/>] on the CPU.</summary>
    public Tensor rand(long[] rowShape, ScalarType dtype = ScalarType.Float32) => Stack(g => torch.rand(rowShape, dtype, Device.CPU, g));

    private Tensor Stack(Func<Generator, Tensor> draw)
    {
        if (_rows.Length == 0) throw new InvalidOperationException("a stacked generator with no rows draws nothing");
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(torch.stack(_rows.Select(draw).ToArray()));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var row in _rows) row.Dispose();
    }
}
