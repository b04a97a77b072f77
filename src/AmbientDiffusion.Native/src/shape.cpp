// Views, reshapes, joins and indexing.
#include "common.h"

extern "C" {

AD_API ad_tensor ad_view(ad_tensor t, const int64_t* shape, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).view(ad::dims(shape, ndim)));)
}

AD_API ad_tensor ad_reshape(ad_tensor t, const int64_t* shape, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).reshape(ad::dims(shape, ndim)));)
}

AD_API ad_tensor ad_expand(ad_tensor t, const int64_t* shape, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).expand(ad::dims(shape, ndim)));)
}

AD_API ad_tensor ad_repeat(ad_tensor t, const int64_t* repeats, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).repeat(ad::dims(repeats, ndim)));)
}

AD_API ad_tensor ad_permute(ad_tensor t, const int64_t* dims, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).permute(ad::dims(dims, ndim)));)
}

AD_API ad_tensor ad_flip(ad_tensor t, const int64_t* dims, int32_t ndim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).flip(ad::dims(dims, ndim)));)
}

AD_API ad_tensor ad_transpose(ad_tensor t, int64_t dim0, int64_t dim1) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).transpose(dim0, dim1));)
}

AD_API ad_tensor ad_flatten(ad_tensor t, int64_t start_dim, int64_t end_dim) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).flatten(start_dim, end_dim));)
}

AD_API ad_tensor ad_unsqueeze(ad_tensor t, int64_t dim) { AD_GUARD(nullptr, return ad::wrap(ad::get(t).unsqueeze(dim));) }

AD_API ad_tensor ad_squeeze(ad_tensor t, int64_t dim, int32_t has_dim) {
    AD_GUARD(nullptr, return ad::wrap(has_dim != 0 ? ad::get(t).squeeze(dim) : ad::get(t).squeeze());)
}

AD_API ad_tensor ad_contiguous(ad_tensor t) { AD_GUARD(nullptr, return ad::wrap(ad::get(t).contiguous());) }

AD_API ad_tensor ad_narrow(ad_tensor t, int64_t dim, int64_t start, int64_t length) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).narrow(dim, start, length));)
}

AD_API ad_tensor ad_select(ad_tensor t, int64_t dim, int64_t index) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).select(dim, index));)
}

AD_API ad_tensor ad_index_select(ad_tensor t, int64_t dim, ad_tensor index) {
    AD_GUARD(nullptr, return ad::wrap(at::index_select(ad::get(t), dim, ad::get(index)));)
}

AD_API ad_tensor ad_gather(ad_tensor t, int64_t dim, ad_tensor index) {
    AD_GUARD(nullptr, return ad::wrap(at::gather(ad::get(t), dim, ad::get(index)));)
}

AD_API ad_tensor ad_cat(const ad_tensor* tensors, int32_t n, int64_t dim) {
    AD_GUARD(nullptr, return ad::wrap(at::cat(ad::tensor_list(tensors, n), dim));)
}

AD_API ad_tensor ad_stack(const ad_tensor* tensors, int32_t n, int64_t dim) {
    AD_GUARD(nullptr, return ad::wrap(at::stack(ad::tensor_list(tensors, n), dim));)
}

AD_API int32_t ad_chunk(ad_tensor t, int64_t chunks, int64_t dim, ad_tensor* out, int32_t capacity) {
    AD_GUARD(-1, auto parts = ad::get(t).chunk(chunks, dim);
             if (static_cast<int64_t>(parts.size()) > capacity) throw std::invalid_argument("chunk buffer too small");
             for (size_t i = 0; i < parts.size(); ++i) out[i] = ad::wrap(parts[i]);
             return static_cast<int32_t>(parts.size());)
}

}  // extern "C"
