// Reductions over a list of dims (empty list: every dim), with keepdim.
#include "common.h"

namespace {

// prod, any, all and the arg reductions of libtorch 1.13 take one dim.
int64_t single_dim(at::IntArrayRef d, const char* name) {
    if (d.size() != 1) throw std::invalid_argument(std::string(name) + " reduces over one dim at a time");
    return d[0];
}

at::Tensor reduce_all(const at::Tensor& x, int32_t op) {
    switch (op) {
        case 0: return at::sum(x);
        case 1: return at::mean(x);
        case 2: return at::amax(x, at::IntArrayRef{});
        case 3: return at::amin(x, at::IntArrayRef{});
        case 4: return at::prod(x);
        case 5: return at::var(x, /*unbiased=*/true);
        case 6: return at::std(x, /*unbiased=*/true);
        case 7: return at::logsumexp(x.reshape({-1}), {0});
        case 8: return at::linalg_vector_norm(x, 2);
        case 9: return at::any(x);
        case 10: return at::all(x);
        case 11: return at::argmax(x);
        case 12: return at::argmin(x);
        case 13: return at::var(x, /*unbiased=*/false);
        case 14: return at::std(x, /*unbiased=*/false);
        default: throw std::invalid_argument("unknown reduction code " + std::to_string(op));
    }
}

at::Tensor reduce_dims(const at::Tensor& x, int32_t op, at::IntArrayRef d, bool keep) {
    switch (op) {
        case 0: return at::sum(x, d, keep);
        case 1: return at::mean(x, d, keep);
        case 2: return at::amax(x, d, keep);
        case 3: return at::amin(x, d, keep);
        case 4: return at::prod(x, single_dim(d, "prod"), keep);
        case 5: return at::var(x, d, /*unbiased=*/true, keep);
        case 6: return at::std(x, d, /*unbiased=*/true, keep);
        case 7: return at::logsumexp(x, d, keep);
        case 8: return at::linalg_vector_norm(x, 2, d, keep);
        case 9: return at::any(x, single_dim(d, "any"), keep);
        case 10: return at::all(x, single_dim(d, "all"), keep);
        case 11: return at::argmax(x, single_dim(d, "argmax"), keep);
        case 12: return at::argmin(x, single_dim(d, "argmin"), keep);
        case 13: return at::var(x, d, /*unbiased=*/false, keep);
        case 14: return at::std(x, d, /*unbiased=*/false, keep);
        default: throw std::invalid_argument("unknown reduction code " + std::to_string(op));
    }
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_reduce(ad_tensor t, int32_t op, const int64_t* dims, int32_t ndims, int32_t keepdim) {
    AD_GUARD(nullptr, const auto& x = ad::get(t); if (ndims > 0) {
        return ad::wrap(reduce_dims(x, op, ad::dims(dims, ndims), keepdim != 0));
    } auto out = reduce_all(x, op);
             if (keepdim != 0) out = out.reshape(std::vector<int64_t>(static_cast<size_t>(x.dim()), 1));
             return ad::wrap(out);)
}

AD_API int32_t ad_topk(ad_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, ad_tensor* values,
                       ad_tensor* indices) {
    AD_GUARD(-1, auto result = at::topk(ad::get(t), k, dim, largest != 0, sorted != 0);
             auto v = ad::wrap(std::get<0>(result)); *indices = ad::wrap(std::get<1>(result)); *values = v;
             return 0;)
}

}  // extern "C"
