// Generators and random tensors. Generators are CPU generators: a seed then gives the same numbers on
// every device, at the price of a host-to-device copy for random tensors on CUDA (small next to a step).
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "common.h"

namespace {

at::Generator resolve(ad_generator g) {
    return g == nullptr ? at::detail::getDefaultCPUGenerator() : ad::gen(g);
}

// The dtype random numbers are drawn in on the CPU: half types are drawn in float32 and converted, so
// the stream of numbers does not depend on the storage type.
at::ScalarType draw_type(at::ScalarType target) {
    return (target == at::kHalf || target == at::kBFloat16) ? at::kFloat : target;
}

at::Tensor draw(int32_t kind, at::IntArrayRef sizes, double low, double high, const at::TensorOptions& target,
                c10::optional<at::Generator> generator) {
    const auto cpu = at::TensorOptions().dtype(draw_type(target.dtype().toScalarType()));
    switch (kind) {
        case 0: return at::randn(sizes, generator, cpu);
        case 1: return at::rand(sizes, generator, cpu);
        case 2:
            return at::randint(static_cast<int64_t>(low), static_cast<int64_t>(high), sizes, generator, cpu);
        default: throw std::invalid_argument("unknown random kind " + std::to_string(kind));
    }
}

void fill(at::Tensor& t, int32_t kind, double a, double b, c10::optional<at::Generator> generator) {
    switch (kind) {
        case 0: t.normal_(a, b, generator); break;
        case 1: t.uniform_(a, b, generator); break;
        case 2:
            if (a < 0.0 || a > 1.0) throw std::invalid_argument("bernoulli probability must lie in [0, 1]");
            t.bernoulli_(a, generator);
            break;
        default: throw std::invalid_argument("unknown random fill kind " + std::to_string(kind));
    }
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_random(int32_t kind, const int64_t* shape, int32_t ndim, double low, double high, int32_t dtype,
                           int32_t device_type, int32_t device_index, ad_generator gen) {
    AD_GUARD(nullptr, const auto sizes = ad::dims(shape, ndim);
             const auto target = ad::options(dtype, device_type, device_index);
             if (kind == 2 && !(low < high)) throw std::invalid_argument("randint needs low < high");
             auto cpu = draw(kind, sizes, low, high, target, resolve(gen));
             return ad::wrap(cpu.to(target.device(), target.dtype().toScalarType()));)
}

AD_API int32_t ad_random_(ad_tensor t, int32_t kind, double a, double b, ad_generator gen) {
    AD_GUARD(-1, auto& x = ad::get(t); auto generator = resolve(gen);
             if (x.device().is_cpu() && x.scalar_type() == draw_type(x.scalar_type())) {
                 fill(x, kind, a, b, generator);
             } else {
                 auto tmp = at::empty(x.sizes(), at::TensorOptions().dtype(draw_type(x.scalar_type())));
                 fill(tmp, kind, a, b, generator);
                 x.copy_(tmp);
             } return 0;)
}

AD_API ad_generator ad_generator_new(uint64_t seed) {
    AD_GUARD(nullptr, return reinterpret_cast<ad_generator>(
                          new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)));)
}

AD_API void ad_generator_free(ad_generator g) { delete reinterpret_cast<at::Generator*>(g); }

AD_API int32_t ad_generator_manual_seed(ad_generator g, uint64_t seed) {
    AD_GUARD(-1, auto generator = resolve(g); std::lock_guard<std::mutex> lock(generator.mutex());
             generator.set_current_seed(seed); return 0;)
}

AD_API ad_tensor ad_generator_get_state(ad_generator g) {
    AD_GUARD(nullptr, auto generator = resolve(g); std::lock_guard<std::mutex> lock(generator.mutex());
             return ad::wrap(generator.get_state());)
}

AD_API int32_t ad_generator_set_state(ad_generator g, ad_tensor state) {
    AD_GUARD(-1, auto generator = resolve(g); const auto& s = ad::get(state);
             if (s.scalar_type() != at::kByte || !s.device().is_cpu())
                 throw std::invalid_argument("generator state must be a uint8 CPU tensor");
             std::lock_guard<std::mutex> lock(generator.mutex()); generator.set_state(s); return 0;)
}

AD_API int32_t ad_manual_seed(uint64_t seed) { AD_GUARD(-1, at::manual_seed(seed); return 0;) }

}  // extern "C"
