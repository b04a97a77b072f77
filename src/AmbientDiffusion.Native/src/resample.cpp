// Image resampling and reflection padding: the preprocessing steps of feature networks (SSCD's resize,
// DINOv2's reflect padding to a multiple of its patch size).
#include "common.h"

extern "C" {

AD_API ad_tensor ad_resize_bilinear(ad_tensor x, int64_t out_h, int64_t out_w, int32_t antialias) {
    AD_GUARD(nullptr, const auto& t = ad::get(x);
             if (t.dim() != 4) throw std::invalid_argument("resize expects a [N, C, H, W] tensor");
             if (out_h < 1 || out_w < 1) throw std::invalid_argument("resize needs a positive output size");
             const int64_t size[] = {out_h, out_w};
             return ad::wrap(antialias != 0 ? at::_upsample_bilinear2d_aa(t, size, false)
                                            : at::upsample_bilinear2d(t, size, false));)
}

AD_API ad_tensor ad_reflection_pad2d(ad_tensor x, int64_t left, int64_t right, int64_t top, int64_t bottom) {
    AD_GUARD(nullptr, const int64_t pad[] = {left, right, top, bottom};
             return ad::wrap(at::reflection_pad2d(ad::get(x), pad));)
}

}  // extern "C"
