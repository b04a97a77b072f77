// Runtime exports: versions, errors, devices, threads, grad mode.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <c10/util/Logging.h>
#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

namespace ad {

std::atomic<int64_t> live_tensors{0};

namespace {
thread_local std::string last_error;
}

void set_error(const char* message) { last_error = message != nullptr ? message : "(no message)"; }
void set_error(const std::string& message) { last_error = message; }

at::ScalarType scalar_type(int32_t code) {
    switch (static_cast<at::ScalarType>(code)) {
        case at::kByte:
        case at::kChar:
        case at::kShort:
        case at::kInt:
        case at::kLong:
        case at::kHalf:
        case at::kFloat:
        case at::kDouble:
        case at::kBool:
        case at::kBFloat16:
            return static_cast<at::ScalarType>(code);
        default:
            throw std::invalid_argument("unsupported dtype code " + std::to_string(code));
    }
}

at::Device device(int32_t type, int32_t index) {
    if (type == 0) return at::Device(at::kCPU);
    if (type == 1) {
        if (index < 0) throw std::invalid_argument("negative CUDA device index");
        return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw std::invalid_argument("unsupported device type " + std::to_string(type));
}

at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
    return at::TensorOptions().dtype(scalar_type(dtype)).device(device(device_type, device_index));
}

std::vector<at::Tensor> tensor_list(const ad_tensor* handles, int32_t n) {
    if (n < 0 || (n > 0 && handles == nullptr)) throw std::invalid_argument("invalid tensor list");
    std::vector<at::Tensor> list;
    list.reserve(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) list.push_back(get(handles[i]));
    return list;
}

namespace {
// OpenBLAS starts its own thread pool on top of libtorch's intra-op threads; on small matrices that
// oversubscribes the cores. One BLAS thread measured best here unless the user sets OPENBLAS_NUM_THREADS.
struct BlasDefaults {
    BlasDefaults() {
        if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return;
        using SetThreads = void (*)(int);
        if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(1);
    }
};
const BlasDefaults blas_defaults;

// c10::Error symbolises a C++ backtrace whenever it is constructed (about 5 ms per error here), and the shim only
// ever reports what_without_backtrace(): skip that wasted work so that a failing call costs microseconds.
struct NoErrorBacktraces {
    NoErrorBacktraces() { c10::SetStackTraceFetcher([] { return std::string(); }); }
};
const NoErrorBacktraces no_error_backtraces;

// glibc serves blocks above M_MMAP_THRESHOLD with fresh mmaps and hands free memory at the top of the heap back to
// the kernel once more than M_TRIM_THRESHOLD is free. Both start at 128 KiB and only rise when the process happens
// to free a large mmapped block, which a .NET host rarely does before its first training step; at the low values
// every step gives its tens of MB of activations back and page-faults them in again (bench/: ~12k faults and
// ~16-24 ms of kernel time per SmallUNet CPU step, against ~4k in a PyTorch process). Start at the ceiling that
// glibc's own adjustment reaches (32 MiB / 64 MiB) unless the user tuned malloc or sets AMBIENT_NO_MALLOC_TUNING.
struct MallocDefaults {
    MallocDefaults() {
#if defined(__GLIBC__)
        if (std::getenv("AMBIENT_NO_MALLOC_TUNING") != nullptr) return;
        const char* tunables = std::getenv("GLIBC_TUNABLES");
        if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
        for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"})
            if (std::getenv(name) != nullptr) return;
        mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
    }
};
const MallocDefaults malloc_defaults;
}  // namespace

}  // namespace ad

// libtorch 2.4 replaced the per-device autocast setters by ones taking the device type; 1.13 has only the former.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define AD_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace {
// Sets the autocast dtype and state of one device type and returns whether autocast was enabled before.
bool swap_autocast(at::DeviceType device, at::ScalarType type, bool enabled) {
#ifdef AD_AUTOCAST_BY_DEVICE_TYPE
    const bool previous = at::autocast::is_autocast_enabled(device);
    at::autocast::set_autocast_dtype(device, type);
    at::autocast::set_autocast_enabled(device, enabled);
#else
    const bool cpu = device == at::kCPU;
    const bool previous = cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
    if (cpu) {
        at::autocast::set_autocast_cpu_dtype(type);
        at::autocast::set_cpu_enabled(enabled);
    } else {
        at::autocast::set_autocast_gpu_dtype(type);
        at::autocast::set_enabled(enabled);
    }
#endif
    return previous;
}
}  // namespace

extern "C" {

AD_API int32_t ad_abi_version(void) { return AD_ABI_VERSION; }

AD_API const char* ad_torch_version(void) { return TORCH_VERSION; }

AD_API const char* ad_last_error(void) { return ad::last_error.c_str(); }

AD_API const char* ad_blas_name(void) {
    using GetConfig = char* (*)();
    if (auto fn = reinterpret_cast<GetConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) return fn();
    if (dlsym(RTLD_DEFAULT, "mkl_get_max_threads") != nullptr) return "MKL";
    return "reference BLAS (slow: install libopenblas0-pthread)";
}

AD_API int32_t ad_cuda_is_available(void) { AD_GUARD(0, return torch::cuda::is_available() ? 1 : 0;) }

AD_API int32_t ad_cuda_device_count(void) { AD_GUARD(0, return static_cast<int32_t>(torch::cuda::device_count());) }

AD_API int32_t ad_cuda_synchronize(int32_t device_index) {
    AD_GUARD(-1, torch::cuda::synchronize(device_index); return 0;)
}

AD_API int32_t ad_set_allow_tf32(int32_t allow) {
    AD_GUARD(-1, at::globalContext().setAllowTF32CuBLAS(allow != 0);
             at::globalContext().setAllowTF32CuDNN(allow != 0); return 0;)
}

AD_API int32_t ad_set_autocast(int32_t device_type, int32_t enabled, int32_t dtype) {
    AD_GUARD(-1, const auto type = ad::scalar_type(dtype); at::DeviceType device;
             if (device_type == static_cast<int32_t>(at::kCUDA)) {
                 if (type != at::kBFloat16 && type != at::kHalf)
                     throw std::invalid_argument("CUDA autocast dtype must be bfloat16 or float16");
                 device = at::kCUDA;
             } else if (device_type == static_cast<int32_t>(at::kCPU)) {
                 // libtorch 1.13's CPU autocast knows bfloat16 only.
                 if (type != at::kBFloat16) throw std::invalid_argument("CPU autocast dtype must be bfloat16");
                 device = at::kCPU;
             } else {
                 throw std::invalid_argument("autocast supports the cpu and cuda device types only");
             }
             const bool previous = swap_autocast(device, type, enabled != 0);
             // Cached low-precision copies of the weights would go stale after the optimizer updates them in place.
             if (enabled == 0) at::autocast::clear_cache();
             return previous ? 1 : 0;)
}

AD_API int32_t ad_get_num_threads(void) { AD_GUARD(-1, return at::get_num_threads();) }

AD_API int32_t ad_set_num_threads(int32_t threads) {
    AD_GUARD(-1, if (threads < 1) throw std::invalid_argument("thread count must be at least 1");
             at::set_num_threads(threads); return 0;)
}

AD_API int64_t ad_live_tensors(void) { return ad::live_tensors.load(std::memory_order_relaxed); }

AD_API int32_t ad_is_grad_enabled(void) { return at::GradMode::is_enabled() ? 1 : 0; }

AD_API int32_t ad_set_grad_enabled(int32_t enabled) {
    const bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
}

}  // extern "C"
