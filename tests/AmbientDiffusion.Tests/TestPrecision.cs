using AmbientDiffusion.Common;

namespace AmbientDiffusion.Tests;

/// <summary>
/// Forces <c>device.bf16</c> in the configs of the training-based tests from outside, so that their statistics can be
/// checked in both precisions on one machine (<c>.ci/robustness</c> runs them with each): the environment variable
/// <see cref="EnvironmentVariable"/> set to <c>on</c> or <c>off</c>; unset, each test keeps its own setting. bf16
/// autocast runs on a CPU without native bf16 too (emulated, slower), so both can be tested anywhere.
/// </summary>
internal static class TestPrecision
{
    /// <summary>The environment variable: <c>on</c>, <c>off</c> or unset.</summary>
    public const string EnvironmentVariable = "AMBIENT_TEST_BF16";

    /// <summary>The trait that tags statistical and training-based tests (filter: <c>Category=Statistical</c>).</summary>
    public const string Category = "Category";

    /// <summary>The trait's value.</summary>
    public const string Statistical = "Statistical";

    /// <summary><paramref name="own"/>, the test's setting, unless the environment forces one.</summary>
    public static Bf16Mode Or(Bf16Mode own) => Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim().ToLowerInvariant() switch
    {
        null or "" => own,
        "on" or "true" => Bf16Mode.True,
        "off" or "false" => Bf16Mode.False,
        var other => throw new InvalidOperationException($"{EnvironmentVariable}={other}: expected on, off or unset"),
    };

    /// <summary>A CPU device in the test's precision <paramref name="own"/> or the forced one.</summary>
    public static DeviceSettings Cpu(Bf16Mode own = Bf16Mode.Auto) => new() { Type = "cpu", Bf16 = Or(own) };
}
