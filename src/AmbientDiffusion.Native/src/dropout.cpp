// Inverted dropout with a counter-based keep mask.
//
// libtorch's CPU bernoulli_ draws every element serially from the Mersenne twister (about 9 ns per element here,
// 8-10% of a small U-Net training step). Instead, one 64-bit key is drawn from the caller's generator per call
// and element i is kept iff the top 24 bits of splitmix64(key + (i + 1) * golden) fall below round(q * 2^24),
// q = 1 - p. Each element depends only on (key, i), so the mask is the same for any thread count and any device,
// the loop parallelises, and the generator advances by exactly one draw: training stays reproducible and
// resumable from the generator's saved state.
#include "common.h"
#include "counter_random.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace {

using ad::counter::kUniformBits;

uint32_t keep_threshold(double p) {
    return static_cast<uint32_t>(std::llround((1.0 - p) * static_cast<double>(1u << kUniformBits)));
}

// The mask on the CPU: one fused, parallel loop.
at::Tensor keep_scale_cpu(int64_t numel, double p, uint64_t key) {
    auto mask = at::empty({numel}, at::TensorOptions().dtype(at::kFloat));
    float* out = mask.data_ptr<float>();
    const uint32_t threshold = keep_threshold(p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    at::parallel_for(0, numel, 16384, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            out[i] = static_cast<uint32_t>(ad::counter::hash(key, i) >> (64 - kUniformBits)) < threshold ? scale : 0.0f;
    });
    return mask;
}

// The same mask from tensor operations on any device, so a CUDA run never draws its masks on the CPU.
at::Tensor keep_scale_tensor_ops(int64_t numel, double p, uint64_t key, const at::Device& device) {
    const auto top = ad::counter::shift_right(ad::counter::hash_tensor(numel, key, device), 64 - kUniformBits);
    return top.lt(static_cast<int64_t>(keep_threshold(p))).to(at::kFloat).mul_(1.0 / (1.0 - p));
}

at::Tensor keep_scale_mask(int64_t numel, double p, uint64_t key, const at::Device& device, bool tensor_ops) {
    if (device.is_cpu() && !tensor_ops) return keep_scale_cpu(numel, p, key);
    return keep_scale_tensor_ops(numel, p, key, device);
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_dropout(ad_tensor x, double p, int32_t train, ad_generator gen) {
    AD_GUARD(nullptr, const auto& input = ad::get(x);
             if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("dropout probability must lie in [0, 1]");
             if (train == 0 || p == 0.0) return ad::wrap(input);
             if (p == 1.0) return ad::wrap(input * 0.0);
             auto mask = keep_scale_mask(input.numel(), p, ad::counter::draw_key(ad::gen_or_default(gen)), input.device(), false);
             return ad::wrap(input * mask.view(input.sizes()).to(input.scalar_type()));)
}

AD_API ad_tensor ad_dropout_mask(int64_t numel, double p, uint64_t key, int32_t tensor_ops) {
    AD_GUARD(nullptr, if (numel < 0) throw std::invalid_argument("negative element count");
             if (!(p >= 0.0 && p < 1.0)) throw std::invalid_argument("dropout probability must lie in [0, 1)");
             return ad::wrap(keep_scale_mask(numel, p, key, at::Device(at::kCPU), tensor_ops != 0));)
}

}  // extern "C"
