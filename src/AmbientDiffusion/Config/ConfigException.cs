namespace AmbientDiffusion.Config;

/// <summary>
/// A configuration error. <see cref="Key"/> is the key path it concerns (e.g. <c>training.lr</c>) when there is one, so the
/// loader can prefix the file position of that key; the message names the key and what was expected.
/// </summary>
public sealed class ConfigException(string message, string? key = null) : ArgumentException(message)
{
    /// <summary>The key path, or null.</summary>
    public string? Key { get; } = key;
}
