using AmbientDiffusion.Torch.IO;

namespace AmbientDiffusion.Common;

/// <summary>
/// Opens one of the project's safetensors artifacts (prepared dataset, corrupted dataset, checkpoint), which name their
/// kind in the <c>format</c> metadata key, so that handing one where another is expected fails with a clear message.
/// </summary>
public static class ArtifactFile
{
    /// <summary>Opens <paramref name="path"/> and checks that its format is <paramref name="format"/>;
    /// <paramref name="what"/> and <paramref name="hint"/> word the error ("a prepared dataset", "make one with ...").</summary>
    public static SafeTensorsFile Open(string path, string format, string what, string hint)
    {
        var file = SafeTensors.Open(path);
        if (file.Metadata.TryGetValue("format", out var actual) && actual == format) return file;
        file.Dispose();
        throw new InvalidDataException($"{path}: not {what} (metadata 'format' is '{actual ?? "(missing)"}', expected '{format}'){(hint.Length > 0 ? "; " + hint : "")}");
    }
}
