using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AmbientDiffusion.Torch.Native;

/// <summary>
/// Finds libambient_native.so next to this assembly (no LD_LIBRARY_PATH needed), checks that its ABI version
/// matches the binding, and applies the process defaults: intra-op threads = cores unless AMBIENT_NUM_THREADS says
/// otherwise (libtorch starts with one thread on some machines).
/// </summary>
internal static class NativeLoader
{
    internal const int ExpectedAbiVersion = 4;

    [ModuleInitializer]
    internal static void Initialize()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != NativeMethods.Library) return IntPtr.Zero;
        var directory = AppContext.BaseDirectory;
        var candidate = Path.Combine(directory, "libambient_native.so");
        if (File.Exists(candidate)) return Load(candidate);
        throw new DllNotFoundException($"libambient_native.so was not found next to {assembly.GetName().Name} in '{directory}'. Build the solution with `dotnet build` (it runs CMake for src/AmbientDiffusion.Native).");
    }

    private static IntPtr Load(string path)
    {
        IntPtr handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException($"{path} exists but could not be loaded; is libtorch installed (apt-get install libtorch-dev)? {e.Message}", e);
        }
        return handle;
    }

    private static int _initialized;

    /// <summary>Runs once, on the first use of the torch API.</summary>
    internal static void EnsureInitialized()
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 1) return;
        var abi = NativeMethods.ad_abi_version();
        if (abi != ExpectedAbiVersion)
            throw new TorchException("load", $"libambient_native.so has ABI version {abi}, the binding expects {ExpectedAbiVersion}: rebuild the solution");
        var threads = Environment.ProcessorCount;
        var configured = Environment.GetEnvironmentVariable("AMBIENT_NUM_THREADS");
        if (!string.IsNullOrEmpty(configured))
        {
            if (!int.TryParse(configured, out threads) || threads < 1)
                throw new TorchException("load", $"AMBIENT_NUM_THREADS='{configured}' is not a positive integer");
        }
        NativeMethods.Check(NativeMethods.ad_set_num_threads(threads), "set_num_threads");
    }
}
