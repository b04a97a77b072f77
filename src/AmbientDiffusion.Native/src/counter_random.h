// Counter-based random numbers: element i of a draw is a pure function of (key, i), through splitmix64, with one
// 64-bit key drawn from a CPU generator per draw. The generator therefore advances by exactly one draw whatever the
// size, the result does not depend on the thread count, and the same numbers can be computed by tensor operations
// on any device, so CUDA runs never generate on the host and copy.
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace ad::counter {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kMix1 = 0xBF58476D1CE4E5B9ULL;
constexpr uint64_t kMix2 = 0x94D049BB133111EBULL;
// Bits of a uniform taken from the top of a hash: a float32's precision.
constexpr int kUniformBits = 24;

// One key from a CPU generator (the default one when g is undefined).
inline uint64_t draw_key(at::Generator g) {
    std::lock_guard<std::mutex> lock(g.mutex());
    return at::check_generator<at::CPUGeneratorImpl>(g)->random64();
}

// splitmix64 of key + (i + 1) * golden, the scalar form.
inline uint64_t hash(uint64_t key, int64_t i) {
    uint64_t z = key + static_cast<uint64_t>(i + 1) * kGolden;
    z = (z ^ (z >> 30)) * kMix1;
    z = (z ^ (z >> 27)) * kMix2;
    return z ^ (z >> 31);
}

// Logical right shift of an int64 tensor (ATen's >> is arithmetic on signed integers).
inline at::Tensor shift_right(const at::Tensor& z, int bits) {
    return at::bitwise_and(at::__rshift__(z, bits), static_cast<int64_t>((~0ULL) >> bits));
}

// The same hashes for i = 0..numel-1 as an int64 tensor on `device` (int64 arithmetic wraps like uint64).
inline at::Tensor hash_tensor(int64_t numel, uint64_t key, const at::Device& device) {
    auto z = at::arange(1, numel + 1, at::TensorOptions().dtype(at::kLong).device(device));
    z = z.mul(static_cast<int64_t>(kGolden)).add_(static_cast<int64_t>(key));
    z = at::bitwise_xor(z, shift_right(z, 30)).mul_(static_cast<int64_t>(kMix1));
    z = at::bitwise_xor(z, shift_right(z, 27)).mul_(static_cast<int64_t>(kMix2));
    return at::bitwise_xor(z, shift_right(z, 31));
}

// Standard normals by Box-Muller from the two 32-bit halves of each hash (u1 in (0, 1], so |z| <= 6.66), computed in
// float64, as a float64 tensor of numel elements on `device`.
inline at::Tensor normal_tensor(int64_t numel, uint64_t key, const at::Device& device) {
    const auto h = hash_tensor(numel, key, device);
    constexpr double two_to_minus_32 = 1.0 / 4294967296.0;
    const auto u1 = shift_right(h, 32).to(at::kDouble).add_(1.0).mul_(two_to_minus_32);
    const auto u2 = at::bitwise_and(h, static_cast<int64_t>(0xFFFFFFFFLL)).to(at::kDouble).mul_(two_to_minus_32);
    constexpr double two_pi = 6.283185307179586476925;
    return u1.log_().mul_(-2.0).sqrt_().mul_(u2.mul_(two_pi).cos_());
}

// Uniforms on [0, 1) with 24 bits (a float32's precision) from the top of each hash, as float32.
inline at::Tensor uniform_tensor(int64_t numel, uint64_t key, const at::Device& device) {
    return shift_right(hash_tensor(numel, key, device), 64 - kUniformBits).to(at::kFloat).mul_(1.0 / (1 << kUniformBits));
}

}  // namespace ad::counter
