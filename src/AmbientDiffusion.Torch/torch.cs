using System.Runtime.InteropServices;
using AmbientDiffusion.Torch.Native;

namespace AmbientDiffusion.Torch;

/// <summary>
/// The entry point, shaped like TorchSharp's <c>torch</c> class: tensor factories, joins, scopes, grad mode,
/// seeds, threads, and the nested <c>torch.nn</c>, <c>torch.optim</c> and <c>torch.cuda</c> namespaces.
/// </summary>
public static partial class torch
{
    static torch() => NativeLoader.EnsureInitialized();

    /// <summary>Loads the native library and applies the defaults (threads); idempotent, called by every entry point.</summary>
    public static void Initialize() => NativeLoader.EnsureInitialized();

#pragma warning disable CS1591
    public const ScalarType uint8 = ScalarType.Byte;
    public const ScalarType int64 = ScalarType.Int64;
    public const ScalarType int32 = ScalarType.Int32;
    public const ScalarType float16 = ScalarType.Float16;
    public const ScalarType bfloat16 = ScalarType.BFloat16;
    public const ScalarType float32 = ScalarType.Float32;
    public const ScalarType float64 = ScalarType.Float64;
    public const ScalarType @bool = ScalarType.Bool;
#pragma warning restore CS1591

    // ---- runtime -------------------------------------------------------------------------------------

    /// <summary>The libtorch version the shim was built against (e.g. "1.13.0").</summary>
    public static string version => Marshal.PtrToStringUTF8(NativeMethods.ad_torch_version()) ?? "?";

    /// <summary>The ABI version of the loaded shim.</summary>
    public static int abi_version => NativeMethods.ad_abi_version();

    /// <summary>The BLAS libtorch calls (OpenBLAS configuration string, MKL, or the slow reference BLAS).</summary>
    public static string blas => Marshal.PtrToStringUTF8(NativeMethods.ad_blas_name()) ?? "?";

    /// <summary>Native tensors currently alive in this process (every handle the binding holds).</summary>
    public static long live_tensors => NativeMethods.ad_live_tensors();

    /// <summary>Intra-op threads libtorch uses.</summary>
    public static int get_num_threads() => NativeMethods.Check(NativeMethods.ad_get_num_threads(), "get_num_threads");

    /// <summary>Sets the intra-op thread count.</summary>
    public static void set_num_threads(int threads) => NativeMethods.Check(NativeMethods.ad_set_num_threads(threads), "set_num_threads");

    /// <summary>Seeds the default generators of every device.</summary>
    public static void manual_seed(ulong seed) => NativeMethods.Check(NativeMethods.ad_manual_seed(seed), "manual_seed");

    /// <summary>A new dispose scope that owns the tensors created on this thread until it is disposed.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Whether autograd records operations on this thread.</summary>
    public static bool is_grad_enabled() => NativeMethods.ad_is_grad_enabled() == 1;

    /// <summary>Disables gradient recording on this thread until the returned guard is disposed.</summary>
    public static GradModeGuard no_grad() => new(false);

    /// <summary>Enables gradient recording on this thread until the returned guard is disposed.</summary>
    public static GradModeGuard enable_grad() => new(true);

    /// <summary>Restores the previous grad mode when disposed.</summary>
    public readonly struct GradModeGuard : IDisposable
    {
        private readonly bool _previous;

        internal GradModeGuard(bool enabled) => _previous = NativeMethods.ad_set_grad_enabled(enabled ? 1 : 0) == 1;

        /// <inheritdoc />
        public void Dispose() => NativeMethods.ad_set_grad_enabled(_previous ? 1 : 0);
    }

    /// <summary>Runs operations of this thread on <paramref name="device"/> in <paramref name="dtype"/> where autocast
    /// deems it safe (convolutions and matrix products), until the returned guard is disposed; as Python's
    /// torch.autocast(device_type). The CPU takes bfloat16 only, CUDA bfloat16 or float16. Parameters and gradients
    /// stay float32.</summary>
    public static AutocastGuard autocast(DeviceType device, ScalarType dtype = ScalarType.BFloat16) => new(device, dtype);

    /// <summary>Restores the previous autocast state of its device type when disposed.</summary>
    public readonly struct AutocastGuard : IDisposable
    {
        private readonly bool _previous;
        private readonly DeviceType _device;
        private readonly ScalarType _dtype;

        internal AutocastGuard(DeviceType device, ScalarType dtype)
        {
            (_device, _dtype) = (device, dtype);
            _previous = NativeMethods.Check(NativeMethods.ad_set_autocast((int)device, 1, (int)dtype), "autocast") == 1;
        }

        /// <inheritdoc />
        public void Dispose() => NativeMethods.ad_set_autocast((int)_device, _previous ? 1 : 0, (int)_dtype);
    }

    /// <summary>CPU queries.</summary>
    public static class cpu
    {
        /// <summary>Whether the CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16, from /proc/cpuinfo), the
        /// condition for bf16 autocast to speed oneDNN's convolutions up rather than emulate them.</summary>
        public static bool has_native_bf16()
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("flags", StringComparison.Ordinal))
                        return line.Split(' ', ':', '\t').Any(flag => flag is "avx512_bf16" or "amx_bf16");
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            return false;
        }
    }

    /// <summary>CUDA queries.</summary>
    public static class cuda
    {
        /// <summary>Whether libtorch was built with CUDA and a GPU is present.</summary>
        public static bool is_available() => NativeMethods.ad_cuda_is_available() == 1;

        /// <summary>Number of visible GPUs.</summary>
        public static int device_count() => NativeMethods.ad_cuda_device_count();

        /// <summary>Waits for every queued kernel of <paramref name="device"/> (-1: the current one).</summary>
        public static void synchronize(int device = -1) => NativeMethods.Check(NativeMethods.ad_cuda_synchronize(device), "cuda.synchronize");

        /// <summary>Runs CUDA operations of this thread in <paramref name="dtype"/> (bfloat16 or float16) where autocast
        /// deems it safe, until the returned guard is disposed. Parameters and gradients stay float32.</summary>
        public static AutocastGuard autocast(ScalarType dtype = ScalarType.BFloat16) => torch.autocast(DeviceType.CUDA, dtype);

        /// <summary>Allows TF32 tensor cores for float32 matrix products and convolutions.</summary>
        public static void allow_tf32(bool allow) => NativeMethods.Check(NativeMethods.ad_set_allow_tf32(allow ? 1 : 0), "allow_tf32");
    }

    // ---- factories -----------------------------------------------------------------------------------

    /// <summary>An uninitialised tensor.</summary>
    public static unsafe Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.CPU;
        fixed (long* p = shape) return Tensor.FromNative(NativeMethods.ad_empty(p, shape.Length, (int)dtype, (int)d.Type, d.Index), "empty");
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static unsafe Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.CPU;
        fixed (long* p = shape) return Tensor.FromNative(NativeMethods.ad_full(p, shape.Length, value, (int)dtype, (int)d.Type, d.Index), "full");
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => full(shape, 0, dtype, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => full(shape, 1, dtype, device);

    /// <summary>Values start, start+step, ... below end.</summary>
    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var d = device ?? Device.CPU;
        return Tensor.FromNative(NativeMethods.ad_arange(start, end, step, (int)dtype, (int)d.Type, d.Index), "arange");
    }

    /// <summary>Values 0, 1, ... below end.</summary>
    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) => arange(0, end, 1, dtype, device);

    private static unsafe Tensor Random(int kind, long[] shape, double low, double high, ScalarType dtype, Device? device, Generator? generator, string op)
    {
        var d = device ?? Device.CPU;
        fixed (long* p = shape)
            return Tensor.FromNative(NativeMethods.ad_random(kind, p, shape.Length, low, high, (int)dtype, (int)d.Type, d.Index, generator?.Handle ?? IntPtr.Zero), op);
    }

    /// <summary>Standard normal samples.</summary>
    public static Tensor randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, Generator? generator = null) =>
        Random(0, shape, 0, 0, dtype, device, generator, "randn");

    /// <summary>Uniform samples on [0, 1).</summary>
    public static Tensor rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, Generator? generator = null) =>
        Random(1, shape, 0, 0, dtype, device, generator, "rand");

    /// <summary>Uniform integers on [low, high).</summary>
    public static Tensor randint(long low, long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null, Generator? generator = null) =>
        Random(2, shape, low, high, dtype, device, generator, "randint");

#pragma warning disable CS1591
    public static Tensor empty_like(Tensor t) => empty(t.shape, t.dtype, t.device);
    public static Tensor zeros_like(Tensor t) => zeros(t.shape, t.dtype, t.device);
    public static Tensor ones_like(Tensor t) => ones(t.shape, t.dtype, t.device);
    public static Tensor full_like(Tensor t, double value) => full(t.shape, value, t.dtype, t.device);
    /// <summary>The counter-based numbers that normal (<paramref name="normal"/>: mean a, std b) and uniform ([a, b)) draws
    /// produce on non-CPU devices, computed on the CPU as a float32 vector; one key is drawn from the generator. For tests.</summary>
    internal static Tensor random_counter(bool normal, long numel, double a, double b, Generator generator) =>
        Tensor.FromNative(NativeMethods.ad_random_counter(normal ? 0 : 1, numel, a, b, generator.Handle), "random_counter");

    public static Tensor randn_like(Tensor t, Generator? generator = null) => randn(t.shape, t.dtype, t.device, generator);
    public static Tensor rand_like(Tensor t, Generator? generator = null) => rand(t.shape, t.dtype, t.device, generator);
    public static Tensor randint_like(Tensor t, long low, long high, Generator? generator = null) => randint(low, high, t.shape, t.dtype, t.device, generator);
#pragma warning restore CS1591

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape (default: 1-d).</summary>
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, long[]? shape = null, Device? device = null) where T : unmanaged
    {
        var dims = shape ?? [data.Length];
        long count = 1;
        foreach (var s in dims) count *= s;
        if (count != data.Length) throw new TorchException("tensor", $"shape [{string.Join(", ", dims)}] holds {count} elements, the data has {data.Length}");
        var d = device ?? Device.CPU;
        fixed (T* values = data)
        fixed (long* p = dims)
            return Tensor.FromNative(NativeMethods.ad_from_data(values, p, dims.Length, (int)ScalarTypes.Of<T>(), (int)d.Type, d.Index), "tensor");
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor tensor<T>(T[] data, long[]? shape = null, Device? device = null) where T : unmanaged => tensor((ReadOnlySpan<T>)data, shape, device);

    /// <summary>A 0-d tensor.</summary>
    public static Tensor scalar_tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) => full([], value, dtype, device);

    /// <summary>A tensor copied from raw bytes at <paramref name="data"/> (row-major, native byte order).</summary>
    public static unsafe Tensor from_raw(void* data, long[] shape, ScalarType dtype, Device? device = null)
    {
        var d = device ?? Device.CPU;
        fixed (long* p = shape)
            return Tensor.FromNative(NativeMethods.ad_from_data(data, p, shape.Length, (int)dtype, (int)d.Type, d.Index), "from_raw");
    }

    // ---- joins and selection -------------------------------------------------------------------------

    /// <summary>Concatenates along an existing dimension.</summary>
    public static unsafe Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Tensor.Handles(tensors);
        fixed (IntPtr* p = handles) return Tensor.FromNative(NativeMethods.ad_cat(p, handles.Length, dim), "cat");
    }

    /// <summary>Stacks along a new dimension.</summary>
    public static unsafe Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var handles = Tensor.Handles(tensors);
        fixed (IntPtr* p = handles) return Tensor.FromNative(NativeMethods.ad_stack(p, handles.Length, dim), "stack");
    }

    /// <summary>Elements of <paramref name="x"/> where <paramref name="condition"/> holds, of <paramref name="y"/> elsewhere.</summary>
    public static Tensor where(Tensor condition, Tensor x, Tensor y) => Tensor.FromNative(NativeMethods.ad_where(condition.Handle, x.Handle, y.Handle), "where");

    /// <summary>Matrix product with broadcasting of batch dimensions.</summary>
    public static Tensor matmul(Tensor a, Tensor b)
    {
        var output = Tensor.FromNative(NativeMethods.ad_matmul(a.Handle, b.Handle), "matmul");
        if (FlopCounterMode.IsActive) FlopCounterMode.MatrixProduct(output, a);
        return output;
    }

    /// <summary>Batched matrix product of [B, n, m] and [B, m, p].</summary>
    public static Tensor bmm(Tensor a, Tensor b)
    {
        var output = Tensor.FromNative(NativeMethods.ad_bmm(a.Handle, b.Handle), "bmm");
        if (FlopCounterMode.IsActive) FlopCounterMode.MatrixProduct(output, a);
        return output;
    }
}
