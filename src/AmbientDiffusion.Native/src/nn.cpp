// Neural-network operators: convolutions, normalisation, activations with state, pooling, losses.
#include "common.h"

namespace {
at::IntArrayRef pair(const int64_t* values, const char* name) {
    if (values == nullptr) throw std::invalid_argument(std::string("null ") + name);
    return at::IntArrayRef(values, 2);
}
}  // namespace

extern "C" {

AD_API ad_tensor ad_conv2d(ad_tensor x, ad_tensor weight, ad_tensor bias, const int64_t* stride,
                           const int64_t* padding, const int64_t* dilation, int64_t groups) {
    AD_GUARD(nullptr, return ad::wrap(at::conv2d(ad::get(x), ad::get(weight), ad::opt(bias), pair(stride, "stride"),
                                                 pair(padding, "padding"), pair(dilation, "dilation"), groups));)
}

AD_API ad_tensor ad_conv_transpose2d(ad_tensor x, ad_tensor weight, ad_tensor bias, const int64_t* stride,
                                     const int64_t* padding, const int64_t* output_padding, int64_t groups,
                                     const int64_t* dilation) {
    AD_GUARD(nullptr, return ad::wrap(at::conv_transpose2d(ad::get(x), ad::get(weight), ad::opt(bias),
                                                           pair(stride, "stride"), pair(padding, "padding"),
                                                           pair(output_padding, "output_padding"), groups,
                                                           pair(dilation, "dilation")));)
}

AD_API ad_tensor ad_group_norm(ad_tensor x, int64_t groups, ad_tensor weight, ad_tensor bias, double eps) {
    AD_GUARD(nullptr, return ad::wrap(at::group_norm(ad::get(x), groups, ad::opt(weight), ad::opt(bias), eps));)
}

AD_API ad_tensor ad_layer_norm(ad_tensor x, const int64_t* shape, int32_t ndim, ad_tensor weight, ad_tensor bias,
                               double eps) {
    AD_GUARD(nullptr, return ad::wrap(at::layer_norm(ad::get(x), ad::dims(shape, ndim), ad::opt(weight),
                                                     ad::opt(bias), eps));)
}

AD_API ad_tensor ad_softmax(ad_tensor x, int64_t dim, int32_t log) {
    AD_GUARD(nullptr, return ad::wrap(log != 0 ? at::log_softmax(ad::get(x), dim) : at::softmax(ad::get(x), dim));)
}

AD_API ad_tensor ad_upsample_nearest2d(ad_tensor x, int64_t out_h, int64_t out_w) {
    AD_GUARD(nullptr, const std::vector<int64_t> size{out_h, out_w};
             return ad::wrap(at::upsample_nearest2d(ad::get(x), size));)
}

AD_API ad_tensor ad_avg_pool2d(ad_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding) {
    AD_GUARD(nullptr, return ad::wrap(at::avg_pool2d(ad::get(x), pair(kernel, "kernel"), pair(stride, "stride"),
                                                     pair(padding, "padding")));)
}

AD_API ad_tensor ad_mse_loss(ad_tensor a, ad_tensor b, int32_t reduction) {
    AD_GUARD(nullptr, if (reduction < 0 || reduction > 2) throw std::invalid_argument("unknown reduction code");
             const auto& x = ad::get(a); const auto& y = ad::get(b);
             if (x.sizes() != y.sizes())
                 throw std::invalid_argument("mse_loss needs equal shapes, got " + c10::str(x.sizes()) + " and " +
                                             c10::str(y.sizes()));
             return ad::wrap(at::mse_loss(x, y, reduction));)
}

AD_API ad_tensor ad_pad(ad_tensor x, const int64_t* pad, int32_t npad, double value) {
    AD_GUARD(nullptr, return ad::wrap(at::constant_pad_nd(ad::get(x), ad::dims(pad, npad), value));)
}

}  // extern "C"
