// Tensor lifetime, metadata, device/dtype moves and copies between managed and native memory.
#include <cstring>

#include "common.h"

extern "C" {

AD_API void ad_tensor_free(ad_tensor t) {
    if (t == nullptr) return;
    delete reinterpret_cast<at::Tensor*>(t);
    ad::live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

AD_API int32_t ad_tensor_dim(ad_tensor t) { AD_GUARD(-1, return static_cast<int32_t>(ad::get(t).dim());) }

AD_API int32_t ad_tensor_shape(ad_tensor t, int64_t* out, int32_t capacity) {
    AD_GUARD(-1, const auto sizes = ad::get(t).sizes();
             if (static_cast<int64_t>(sizes.size()) > capacity) throw std::invalid_argument("shape buffer too small");
             std::copy(sizes.begin(), sizes.end(), out); return static_cast<int32_t>(sizes.size());)
}

AD_API int32_t ad_tensor_dtype(ad_tensor t) { AD_GUARD(-1, return static_cast<int32_t>(ad::get(t).scalar_type());) }

AD_API int32_t ad_tensor_device(ad_tensor t, int32_t* type, int32_t* index) {
    AD_GUARD(-1, const auto d = ad::get(t).device(); *type = static_cast<int32_t>(d.type());
             *index = d.has_index() ? d.index() : 0; return 0;)
}

AD_API int64_t ad_tensor_numel(ad_tensor t) { AD_GUARD(-1, return ad::get(t).numel();) }

AD_API int32_t ad_tensor_is_contiguous(ad_tensor t) { AD_GUARD(-1, return ad::get(t).is_contiguous() ? 1 : 0;) }

AD_API int32_t ad_tensor_item(ad_tensor t, double* out) {
    AD_GUARD(-1, *out = ad::get(t).item().toDouble(); return 0;)
}

AD_API int32_t ad_tensor_item_int64(ad_tensor t, int64_t* out) {
    AD_GUARD(-1, *out = ad::get(t).item().toLong(); return 0;)
}

AD_API void* ad_tensor_data_ptr(ad_tensor t) {
    AD_GUARD(nullptr, auto& x = ad::get(t);
             if (!x.device().is_cpu() || !x.is_contiguous())
                 throw std::invalid_argument("data_ptr needs a contiguous CPU tensor");
             return x.data_ptr();)
}

AD_API int32_t ad_tensor_copy_to(ad_tensor t, void* dst, int64_t nbytes) {
    AD_GUARD(-1, auto x = ad::get(t).detach().to(at::kCPU).contiguous();
             const int64_t size = x.numel() * static_cast<int64_t>(x.element_size());
             if (size != nbytes)
                 throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes, tensor has " +
                                             std::to_string(size));
             if (size > 0) std::memcpy(dst, x.data_ptr(), static_cast<size_t>(size)); return 0;)
}

AD_API ad_tensor ad_tensor_to(ad_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t copy) {
    AD_GUARD(nullptr, return ad::wrap(ad::get(t).to(ad::device(device_type, device_index), ad::scalar_type(dtype),
                                                    /*non_blocking=*/false, copy != 0));)
}

AD_API ad_tensor ad_tensor_clone(ad_tensor t) { AD_GUARD(nullptr, return ad::wrap(ad::get(t).clone());) }

AD_API ad_tensor ad_tensor_alias(ad_tensor t) { AD_GUARD(nullptr, return ad::wrap(ad::get(t));) }

AD_API ad_tensor ad_from_data(const void* data, const int64_t* shape, int32_t ndim, int32_t dtype,
                              int32_t device_type, int32_t device_index) {
    AD_GUARD(nullptr, const auto sizes = ad::dims(shape, ndim);
             auto out = at::empty(sizes, at::TensorOptions().dtype(ad::scalar_type(dtype)));
             const auto nbytes = static_cast<size_t>(out.numel()) * out.element_size();
             if (nbytes > 0) {
                 if (data == nullptr) throw std::invalid_argument("null data pointer");
                 std::memcpy(out.data_ptr(), data, nbytes);
             }
             const auto dev = ad::device(device_type, device_index);
             return ad::wrap(dev.is_cpu() ? out : out.to(dev));)
}

AD_API ad_tensor ad_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                          int32_t device_index) {
    AD_GUARD(nullptr, return ad::wrap(at::empty(ad::dims(shape, ndim), ad::options(dtype, device_type, device_index)));)
}

AD_API ad_tensor ad_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type,
                         int32_t device_index) {
    AD_GUARD(nullptr,
             return ad::wrap(at::full(ad::dims(shape, ndim), value, ad::options(dtype, device_type, device_index)));)
}

AD_API ad_tensor ad_arange(double start, double end, double step, int32_t dtype, int32_t device_type,
                           int32_t device_index) {
    AD_GUARD(nullptr, return ad::wrap(at::arange(start, end, step, ad::options(dtype, device_type, device_index)));)
}

}  // extern "C"
