// Shared plumbing of the shim: handle ownership, error capture and argument conversion.
// Every export is wrapped in AD_GUARD so that no C++ exception ever crosses the C ABI: the message
// (without libtorch's backtrace) is stored in a thread-local and the export returns its failure value.
#pragma once

#include <ATen/ATen.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../include/ambient_native.h"

namespace ad {

// Live tensor handles; the binding's memory tests read it to prove that dispose scopes free everything.
extern std::atomic<int64_t> live_tensors;

void set_error(const char* message);
void set_error(const std::string& message);

inline ad_tensor wrap(at::Tensor t) {
    // An undefined result is a bug in the caller's contract, not a value the binding can use.
    if (!t.defined()) throw std::runtime_error("operation produced an undefined tensor");
    live_tensors.fetch_add(1, std::memory_order_relaxed);
    return reinterpret_cast<ad_tensor>(new at::Tensor(std::move(t)));
}

inline at::Tensor& get(ad_tensor h) {
    if (h == nullptr) throw std::invalid_argument("null tensor handle");
    return *reinterpret_cast<at::Tensor*>(h);
}

// Optional tensor arguments (bias, norm weights) are passed as null handles.
inline c10::optional<at::Tensor> opt(ad_tensor h) {
    if (h == nullptr) return c10::nullopt;
    return get(h);
}

inline at::Generator& gen(ad_generator g) {
    if (g == nullptr) throw std::invalid_argument("null generator handle");
    return *reinterpret_cast<at::Generator*>(g);
}

// An optional generator argument: the handle's generator, or libtorch's default CPU generator for a null handle.
at::Generator gen_or_default(ad_generator g);

at::ScalarType scalar_type(int32_t code);
at::Device device(int32_t type, int32_t index);
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index);

inline at::IntArrayRef dims(const int64_t* data, int32_t n) {
    if (n < 0) throw std::invalid_argument("negative length of an integer list");
    if (n > 0 && data == nullptr) throw std::invalid_argument("null integer list");
    return at::IntArrayRef(data, static_cast<size_t>(n));
}

std::vector<at::Tensor> tensor_list(const ad_tensor* handles, int32_t n);

}  // namespace ad

// Guards an export body. FAIL is what the export returns when the body throws.
#define AD_GUARD(FAIL, ...)                                                  \
    try {                                                                    \
        __VA_ARGS__                                                          \
    } catch (const c10::Error& e) {                                          \
        ad::set_error(e.what_without_backtrace());                           \
        return FAIL;                                                         \
    } catch (const std::exception& e) {                                      \
        ad::set_error(e.what());                                             \
        return FAIL;                                                         \
    } catch (...) {                                                          \
        ad::set_error("unknown C++ exception");                              \
        return FAIL;                                                         \
    }
