using System.Reflection;
using AmbientDiffusion.Torch;

namespace AmbientDiffusion.Common;

/// <summary>The versions recorded in every artifact's provenance.</summary>
public static class ToolVersion
{
    /// <summary>"AmbientDiffusion 1.0.0 (libtorch 1.13.0)".</summary>
    public static string Describe() =>
        $"AmbientDiffusion {typeof(ToolVersion).Assembly.GetName().Version} (libtorch {torch.version})";
}
