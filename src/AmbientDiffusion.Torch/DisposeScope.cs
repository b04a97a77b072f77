namespace AmbientDiffusion.Torch;

/// <summary>
/// Owns every tensor created on this thread while it is the innermost scope, and frees them all when disposed.
/// This is how native memory is released deterministically: a training step runs inside a scope, and only
/// what is explicitly moved out (<see cref="Tensor.MoveToOuterDisposeScope"/>) or detached
/// (<see cref="Tensor.DetachFromDisposeScope"/>, parameters, optimizer state) survives it.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? _current;

    private readonly List<Tensor> _owned = new();
    private readonly DisposeScope? _outer;
    private bool _disposed;

    internal DisposeScope()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>The innermost scope of this thread, or null.</summary>
    public static DisposeScope? Current => _current;

    /// <summary>The scope this one is nested in.</summary>
    public DisposeScope? Outer => _outer;

    /// <summary>Tensors this scope still owns.</summary>
    public int Count => _owned.Count(t => ReferenceEquals(t.Scope, this) && !t.IsInvalid);

    private int _compactAt = 1024;

    /// <summary>Entries in the ownership list, live or not (for tests of the compaction).</summary>
    internal int TrackedCount => _owned.Count;

    internal void Attach(Tensor tensor)
    {
        // A long-lived scope whose tensors are mostly disposed early (or moved away) would grow without bound:
        // drop those entries whenever the list doubles, which keeps attaching amortised O(1).
        if (_owned.Count >= _compactAt)
        {
            _owned.RemoveAll(t => t.IsInvalid || !ReferenceEquals(t.Scope, this));
            _compactAt = Math.Max(1024, 2 * _owned.Count);
        }
        tensor.Scope = this;
        _owned.Add(tensor);
    }

    /// <summary>Moves <paramref name="tensor"/> to the enclosing scope (or to no scope) and returns it.</summary>
    public T MoveToOuter<T>(T tensor) where T : Tensor
    {
        if (!ReferenceEquals(tensor.Scope, this)) throw new InvalidOperationException("the tensor does not belong to this dispose scope");
        tensor.Scope = null;
        _outer?.Attach(tensor);
        return tensor;
    }

    /// <summary>Frees every tensor still owned by this scope and makes the outer scope current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        // Checked before marking the scope disposed: a refused out-of-order Dispose must leave it usable, or its
        // tensors would never be freed and the thread's current scope would stay pointing at it.
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("dispose scopes must be disposed innermost first");
        _disposed = true;
        _current = _outer;
        foreach (var tensor in _owned)
        {
            if (ReferenceEquals(tensor.Scope, this)) tensor.Dispose();
        }
        _owned.Clear();
    }
}
