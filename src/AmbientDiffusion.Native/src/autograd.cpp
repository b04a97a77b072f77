// Autograd: gradients, backward, detach, and swapping a tensor's data (flat parameter buffers).
#include "common.h"

extern "C" {

AD_API int32_t ad_requires_grad(ad_tensor t) { AD_GUARD(-1, return ad::get(t).requires_grad() ? 1 : 0;) }

AD_API int32_t ad_set_requires_grad(ad_tensor t, int32_t requires_grad) {
    AD_GUARD(-1, ad::get(t).set_requires_grad(requires_grad != 0); return 0;)
}

AD_API int32_t ad_is_leaf(ad_tensor t) { AD_GUARD(-1, return ad::get(t).is_leaf() ? 1 : 0;) }

AD_API int32_t ad_backward(ad_tensor t, ad_tensor grad, int32_t retain_graph) {
    AD_GUARD(-1, const auto& x = ad::get(t);
             if (!x.requires_grad()) throw std::invalid_argument("backward on a tensor that does not require grad");
             x.backward(grad == nullptr ? at::Tensor() : ad::get(grad),
                        retain_graph != 0 ? c10::optional<bool>(true) : c10::nullopt);
             return 0;)
}

AD_API int32_t ad_grad(ad_tensor t, ad_tensor* out) {
    AD_GUARD(-1, const auto& g = ad::get(t).grad(); *out = g.defined() ? ad::wrap(g) : nullptr; return 0;)
}

AD_API int32_t ad_set_grad(ad_tensor t, ad_tensor grad) {
    AD_GUARD(-1, ad::get(t).mutable_grad() = grad == nullptr ? at::Tensor() : ad::get(grad); return 0;)
}

AD_API ad_tensor ad_detach(ad_tensor t) { AD_GUARD(nullptr, return ad::wrap(ad::get(t).detach());) }

AD_API int32_t ad_set_data(ad_tensor t, ad_tensor src) { AD_GUARD(-1, ad::get(t).set_data(ad::get(src)); return 0;) }

}  // extern "C"
