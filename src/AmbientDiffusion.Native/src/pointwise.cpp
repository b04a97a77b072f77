// Elementwise math. Operations are selected by integer codes (mirrored by UnaryOp/BinaryOp in the
// binding) so that one export serves a whole family and the ABI stays small.
#include <ATen/ScalarOps.h>

#include "common.h"

namespace {

at::Tensor unary(const at::Tensor& x, int32_t op) {
    switch (op) {
        case 0: return at::neg(x);
        case 1: return at::abs(x);
        case 2: return at::exp(x);
        case 3: return at::log(x);
        case 4: return at::sqrt(x);
        case 5: return at::rsqrt(x);
        case 6: return at::sin(x);
        case 7: return at::cos(x);
        case 8: return at::tanh(x);
        case 9: return at::sigmoid(x);
        case 10: return at::silu(x);
        case 11: return at::relu(x);
        case 12: return at::gelu(x);
        case 13: return at::square(x);
        case 14: return at::reciprocal(x);
        case 15: return at::sign(x);
        case 16: return at::floor(x);
        case 17: return at::ceil(x);
        case 18: return at::round(x);
        case 19: return at::log1p(x);
        case 20: return at::expm1(x);
        case 21: return at::erf(x);
        case 22: return at::isfinite(x);
        case 23: return at::logical_not(x);
        case 24: return at::isnan(x);
        case 25: return at::trunc(x);
        default: throw std::invalid_argument("unknown unary op code " + std::to_string(op));
    }
}

void unary_(at::Tensor& x, int32_t op) {
    switch (op) {
        case 0: x.neg_(); return;
        case 1: x.abs_(); return;
        case 2: x.exp_(); return;
        case 3: x.log_(); return;
        case 4: x.sqrt_(); return;
        case 5: x.rsqrt_(); return;
        case 8: x.tanh_(); return;
        case 9: x.sigmoid_(); return;
        case 10: at::silu_(x); return;
        case 11: x.relu_(); return;
        case 13: x.square_(); return;
        case 14: x.reciprocal_(); return;
        case 16: x.floor_(); return;
        case 17: x.ceil_(); return;
        case 18: x.round_(); return;
        case 25: x.trunc_(); return;
        default: throw std::invalid_argument("unary op code " + std::to_string(op) + " has no in-place form");
    }
}

at::Tensor binary(const at::Tensor& a, const at::Tensor& b, int32_t op) {
    switch (op) {
        case 0: return at::add(a, b);
        case 1: return at::sub(a, b);
        case 2: return at::mul(a, b);
        case 3: return at::div(a, b);
        case 4: return at::pow(a, b);
        case 5: return at::maximum(a, b);
        case 6: return at::minimum(a, b);
        case 7: return at::eq(a, b);
        case 8: return at::ne(a, b);
        case 9: return at::lt(a, b);
        case 10: return at::le(a, b);
        case 11: return at::gt(a, b);
        case 12: return at::ge(a, b);
        case 13: return at::atan2(a, b);
        case 14: return at::logical_and(a, b);
        case 15: return at::logical_or(a, b);
        case 16: return at::remainder(a, b);
        case 17: return at::floor_divide(a, b);
        default: throw std::invalid_argument("unknown binary op code " + std::to_string(op));
    }
}

void binary_(at::Tensor& a, const at::Tensor& b, int32_t op) {
    switch (op) {
        case 0: a.add_(b); return;
        case 1: a.sub_(b); return;
        case 2: a.mul_(b); return;
        case 3: a.div_(b); return;
        case 4: a.pow_(b); return;
        default: throw std::invalid_argument("binary op code " + std::to_string(op) + " has no in-place form");
    }
}

// A Python-style scalar: a 0-d CPU tensor marked as a wrapped number takes part in type promotion like a
// number (int tensor * 0.5 is float; float16 tensor + 1.0 stays float16) and works with CUDA operands.
at::Tensor wrapped(double value) {
    auto t = at::scalar_to_tensor(at::Scalar(value));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_unary(ad_tensor t, int32_t op) { AD_GUARD(nullptr, return ad::wrap(unary(ad::get(t), op));) }

AD_API int32_t ad_unary_(ad_tensor t, int32_t op) { AD_GUARD(-1, unary_(ad::get(t), op); return 0;) }

AD_API ad_tensor ad_binary(ad_tensor a, ad_tensor b, int32_t op) {
    AD_GUARD(nullptr, return ad::wrap(binary(ad::get(a), ad::get(b), op));)
}

AD_API int32_t ad_binary_(ad_tensor a, ad_tensor b, int32_t op) {
    AD_GUARD(-1, binary_(ad::get(a), ad::get(b), op); return 0;)
}

AD_API ad_tensor ad_binary_scalar(ad_tensor t, double scalar, int32_t op, int32_t reverse) {
    AD_GUARD(nullptr, const auto& x = ad::get(t); if (reverse == 0) {
        switch (op) {  // the Scalar overloads skip allocating a 0-d tensor on the hot path
            case 0: return ad::wrap(at::add(x, scalar));
            case 1: return ad::wrap(at::sub(x, scalar));
            case 2: return ad::wrap(at::mul(x, scalar));
            case 3: return ad::wrap(at::div(x, scalar));
            case 4: return ad::wrap(at::pow(x, scalar));
            default: return ad::wrap(binary(x, wrapped(scalar), op));
        }
    } return ad::wrap(binary(wrapped(scalar), x, op));)
}

AD_API int32_t ad_binary_scalar_(ad_tensor t, double scalar, int32_t op) {
    AD_GUARD(-1, auto& x = ad::get(t); switch (op) {
        case 0: x.add_(scalar); break;
        case 1: x.sub_(scalar); break;
        case 2: x.mul_(scalar); break;
        case 3: x.div_(scalar); break;
        case 4: x.pow_(scalar); break;
        default: throw std::invalid_argument("binary op code " + std::to_string(op) + " has no in-place scalar form");
    } return 0;)
}

AD_API ad_tensor ad_add_scaled(ad_tensor a, ad_tensor b, double alpha) {
    AD_GUARD(nullptr, return ad::wrap(at::add(ad::get(a), ad::get(b), alpha));)
}

AD_API int32_t ad_add_scaled_(ad_tensor a, ad_tensor b, double alpha) {
    AD_GUARD(-1, ad::get(a).add_(ad::get(b), alpha); return 0;)
}

AD_API int32_t ad_addcmul_(ad_tensor t, ad_tensor t1, ad_tensor t2, double value) {
    AD_GUARD(-1, ad::get(t).addcmul_(ad::get(t1), ad::get(t2), value); return 0;)
}

AD_API int32_t ad_addcdiv_(ad_tensor t, ad_tensor t1, ad_tensor t2, double value) {
    AD_GUARD(-1, ad::get(t).addcdiv_(ad::get(t1), ad::get(t2), value); return 0;)
}

AD_API int32_t ad_lerp_(ad_tensor t, ad_tensor end, double weight) {
    AD_GUARD(-1, ad::get(t).lerp_(ad::get(end), weight); return 0;)
}

AD_API int32_t ad_copy_(ad_tensor dst, ad_tensor src) { AD_GUARD(-1, ad::get(dst).copy_(ad::get(src)); return 0;) }

AD_API int32_t ad_fill_(ad_tensor t, double value) { AD_GUARD(-1, ad::get(t).fill_(value); return 0;) }

AD_API int32_t ad_zero_(ad_tensor t) { AD_GUARD(-1, ad::get(t).zero_(); return 0;) }

AD_API ad_tensor ad_where(ad_tensor cond, ad_tensor a, ad_tensor b) {
    AD_GUARD(nullptr, const auto& c = ad::get(cond);
             if (c.scalar_type() != at::kBool) throw std::invalid_argument("where expects a bool condition, got " +
                                                                           std::string(c10::toString(c.scalar_type())));
             return ad::wrap(at::where(c, ad::get(a), ad::get(b)));)
}

AD_API ad_tensor ad_clamp(ad_tensor t, double min, double max, int32_t has_min, int32_t has_max) {
    AD_GUARD(nullptr, const auto lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
             const auto hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
             return ad::wrap(at::clamp(ad::get(t), lo, hi));)
}

AD_API int32_t ad_clamp_(ad_tensor t, double min, double max, int32_t has_min, int32_t has_max) {
    AD_GUARD(-1, const auto lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
             const auto hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
             ad::get(t).clamp_(lo, hi); return 0;)
}

AD_API ad_tensor ad_masked_fill(ad_tensor t, ad_tensor mask, double value) {
    AD_GUARD(nullptr, return ad::wrap(at::masked_fill(ad::get(t), ad::get(mask), value));)
}

}  // extern "C"
