// Matrix products.
#include "common.h"

extern "C" {

AD_API ad_tensor ad_matmul(ad_tensor a, ad_tensor b) { AD_GUARD(nullptr, return ad::wrap(at::matmul(ad::get(a), ad::get(b)));) }

AD_API ad_tensor ad_bmm(ad_tensor a, ad_tensor b) { AD_GUARD(nullptr, return ad::wrap(at::bmm(ad::get(a), ad::get(b)));) }

AD_API int32_t ad_linalg_eigh(ad_tensor a, ad_tensor* values, ad_tensor* vectors) {
    AD_GUARD(-1, auto result = at::linalg_eigh(ad::get(a));
             auto v = ad::wrap(std::get<0>(result)); *vectors = ad::wrap(std::get<1>(result)); *values = v;
             return 0;)
}

AD_API ad_tensor ad_linear(ad_tensor x, ad_tensor weight, ad_tensor bias) {
    AD_GUARD(nullptr, return ad::wrap(at::linear(ad::get(x), ad::get(weight), ad::opt(bias)));)
}

}  // extern "C"
