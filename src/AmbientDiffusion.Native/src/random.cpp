// Generators and random tensors. Generators are CPU generators. On the CPU they draw with libtorch's own kernels.
// For tensors on another device, normal and uniform draws take one key from the generator and compute a
// counter-based hash on that device (counter_random.h), instead of generating millions of numbers on the host and
// copying them (3.1M normals, 30-57 ms on one core, for a batch of 256 64x64 RGB images). A seed thus gives
// reproducible, resumable draws on every device, though not the same numbers on the CPU as on a GPU.
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "common.h"
#include "counter_random.h"

namespace ad {
at::Generator gen_or_default(ad_generator g) {
    return g == nullptr ? at::detail::getDefaultCPUGenerator() : gen(g);
}
}  // namespace ad

namespace {

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

// Normal (kind 0: mean a, std b) or uniform (kind 1: on [a, b)) numbers from one key, computed by tensor operations
// on the target's device, in the target's dtype.
at::Tensor counter_draw(int32_t kind, at::IntArrayRef sizes, double a, double b, const at::TensorOptions& target,
                        at::Generator generator) {
    const auto key = ad::counter::draw_key(generator);
    const auto numel = c10::multiply_integers(sizes);
    const auto device = target.device();
    auto values = kind == 0 ? ad::counter::normal_tensor(numel, key, device) : ad::counter::uniform_tensor(numel, key, device);
    if (b != 1.0) values.mul_(kind == 0 ? b : b - a);
    if (a != 0.0) values.add_(a);
    return values.view(sizes).to(target.dtype().toScalarType());
}

bool draws_on_device(int32_t kind, const at::Device& device) { return !device.is_cpu() && (kind == 0 || kind == 1); }

}  // namespace

extern "C" {

AD_API ad_tensor ad_random(int32_t kind, const int64_t* shape, int32_t ndim, double low, double high, int32_t dtype,
                           int32_t device_type, int32_t device_index, ad_generator gen) {
    AD_GUARD(nullptr, const auto sizes = ad::dims(shape, ndim);
             const auto target = ad::options(dtype, device_type, device_index);
             if (kind == 2 && !(low < high)) throw std::invalid_argument("randint needs low < high");
             if (draws_on_device(kind, target.device()))
                 return ad::wrap(counter_draw(kind, sizes, 0.0, 1.0, target, ad::gen_or_default(gen)));
             auto cpu = draw(kind, sizes, low, high, target, ad::gen_or_default(gen));
             return ad::wrap(cpu.to(target.device(), target.dtype().toScalarType()));)
}

AD_API int32_t ad_random_(ad_tensor t, int32_t kind, double a, double b, ad_generator gen) {
    AD_GUARD(-1, auto& x = ad::get(t); auto generator = ad::gen_or_default(gen);
             if (x.device().is_cpu() && x.scalar_type() == draw_type(x.scalar_type())) {
                 fill(x, kind, a, b, generator);
             } else if (draws_on_device(kind, x.device())) {
                 x.copy_(counter_draw(kind, x.sizes(), a, b, x.options(), generator));
             } else {
                 auto tmp = at::empty(x.sizes(), at::TensorOptions().dtype(draw_type(x.scalar_type())));
                 fill(tmp, kind, a, b, generator);
                 x.copy_(tmp);
             } return 0;)
}

AD_API ad_tensor ad_random_counter(int32_t kind, int64_t numel, double a, double b, ad_generator gen) {
    AD_GUARD(nullptr, if (kind != 0 && kind != 1) throw std::invalid_argument("counter draws are normal (0) or uniform (1)");
             if (numel < 0) throw std::invalid_argument("negative element count");
             const std::vector<int64_t> sizes{numel};
             return ad::wrap(counter_draw(kind, sizes, a, b, at::TensorOptions().dtype(at::kFloat), ad::gen_or_default(gen)));)
}

AD_API ad_generator ad_generator_new(uint64_t seed) {
    AD_GUARD(nullptr, return reinterpret_cast<ad_generator>(
                          new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)));)
}

AD_API void ad_generator_free(ad_generator g) { delete reinterpret_cast<at::Generator*>(g); }

AD_API int32_t ad_generator_manual_seed(ad_generator g, uint64_t seed) {
    AD_GUARD(-1, auto generator = ad::gen_or_default(g); std::lock_guard<std::mutex> lock(generator.mutex());
             generator.set_current_seed(seed); return 0;)
}

AD_API ad_tensor ad_generator_get_state(ad_generator g) {
    AD_GUARD(nullptr, auto generator = ad::gen_or_default(g); std::lock_guard<std::mutex> lock(generator.mutex());
             return ad::wrap(generator.get_state());)
}

AD_API int32_t ad_generator_set_state(ad_generator g, ad_tensor state) {
    AD_GUARD(-1, auto generator = ad::gen_or_default(g); const auto& s = ad::get(state);
             if (s.scalar_type() != at::kByte || !s.device().is_cpu())
                 throw std::invalid_argument("generator state must be a uint8 CPU tensor");
             std::lock_guard<std::mutex> lock(generator.mutex()); generator.set_state(s); return 0;)
}

AD_API int32_t ad_manual_seed(uint64_t seed) { AD_GUARD(-1, at::manual_seed(seed); return 0;) }

}  // extern "C"
