namespace AmbientDiffusion.Common;

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronization-context hop,
/// unlike <see cref="Progress{T}"/>), for relaying one stage's progress into another's.</summary>
public sealed class ProgressRelay<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc />
    public void Report(T value) => report(value);
}
