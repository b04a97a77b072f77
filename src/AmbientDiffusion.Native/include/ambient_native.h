/*
 * ambient_native: the flat C ABI of AmbientDiffusion over libtorch.
 *
 * Conventions (the C# binding in AmbientDiffusion.Torch/Native relies on every one of them):
 *  - Tensors and generators are opaque handles owned by the caller and released with *_free.
 *  - Functions returning a handle return NULL on failure; functions returning int32_t return 0 on success
 *    and -1 on failure. After a failure ad_last_error() holds the message (thread-local, no backtrace).
 *  - No C++ exception crosses this boundary; bad shapes, dtypes and dims are reported as errors.
 *  - dtype codes are c10::ScalarType values (uint8 0, int64 4, float16 5, float32 6, float64 7, bool 11,
 *    bfloat16 15); device types are c10::DeviceType values (cpu 0, cuda 1).
 *  - Lists of integers are (pointer, length) pairs; lists of tensors are (handle array, length) pairs.
 *  - Generators are CPU generators. Random tensors for another device are drawn on the CPU and moved, so that
 *    a seed gives the same numbers on every device.
 */
#ifndef AMBIENT_NATIVE_H
#define AMBIENT_NATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AD_API __attribute__((visibility("default")))

/* Bumped whenever an export changes signature or meaning; the binding refuses a shim of another version. */
#define AD_ABI_VERSION 4

typedef struct ad_tensor_s* ad_tensor;
typedef struct ad_generator_s* ad_generator;

/* ---- runtime ---------------------------------------------------------------------------------------- */
AD_API int32_t ad_abi_version(void);
AD_API const char* ad_torch_version(void);
AD_API const char* ad_last_error(void);
AD_API const char* ad_blas_name(void);
AD_API int32_t ad_cuda_is_available(void);
AD_API int32_t ad_cuda_device_count(void);
AD_API int32_t ad_cuda_synchronize(int32_t device_index);
AD_API int32_t ad_set_allow_tf32(int32_t allow);
/* Autocast on this thread for a device type (cpu 0: bfloat16; cuda 1: bfloat16 or float16). Returns the previous
   enabled state (0/1), or -1 on failure. Disabling also clears autocast's cast cache. */
AD_API int32_t ad_set_autocast(int32_t device_type, int32_t enabled, int32_t dtype);
AD_API int32_t ad_get_num_threads(void);
AD_API int32_t ad_set_num_threads(int32_t threads);
AD_API int64_t ad_live_tensors(void);
AD_API int32_t ad_is_grad_enabled(void);
AD_API int32_t ad_set_grad_enabled(int32_t enabled);

/* ---- tensor lifetime and metadata ------------------------------------------------------------------- */
AD_API void ad_tensor_free(ad_tensor t);
AD_API int32_t ad_tensor_dim(ad_tensor t);
AD_API int32_t ad_tensor_shape(ad_tensor t, int64_t* out, int32_t capacity);
AD_API int32_t ad_tensor_dtype(ad_tensor t);
AD_API int32_t ad_tensor_device(ad_tensor t, int32_t* type, int32_t* index);
AD_API int64_t ad_tensor_numel(ad_tensor t);
AD_API int32_t ad_tensor_is_contiguous(ad_tensor t);
AD_API int32_t ad_tensor_item(ad_tensor t, double* out);
AD_API int32_t ad_tensor_item_int64(ad_tensor t, int64_t* out);
AD_API void* ad_tensor_data_ptr(ad_tensor t);
AD_API int32_t ad_tensor_copy_to(ad_tensor t, void* dst, int64_t nbytes);
AD_API ad_tensor ad_tensor_to(ad_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t copy);
AD_API ad_tensor ad_tensor_clone(ad_tensor t);
AD_API ad_tensor ad_tensor_alias(ad_tensor t);

/* ---- creation --------------------------------------------------------------------------------------- */
AD_API ad_tensor ad_from_data(const void* data, const int64_t* shape, int32_t ndim, int32_t dtype,
                              int32_t device_type, int32_t device_index);
AD_API ad_tensor ad_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
AD_API ad_tensor ad_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type,
                         int32_t device_index);
AD_API ad_tensor ad_arange(double start, double end, double step, int32_t dtype, int32_t device_type,
                           int32_t device_index);
/* kind: 0 randn (mean 0, std 1), 1 rand [0, 1), 2 randint [low, high). gen may be NULL (default generator). */
AD_API ad_tensor ad_random(int32_t kind, const int64_t* shape, int32_t ndim, double low, double high, int32_t dtype,
                           int32_t device_type, int32_t device_index, ad_generator gen);
/* In-place fills: kind 0 normal_(a = mean, b = std), 1 uniform_(a, b), 2 bernoulli_(p = a). */
AD_API int32_t ad_random_(ad_tensor t, int32_t kind, double a, double b, ad_generator gen);
/* The counter-based draw that ad_random and ad_random_ use for normal (kind 0: mean a, std b) and uniform (kind 1:
   [a, b)) tensors on non-CPU devices, computed on the CPU as a float32 vector of numel elements; for tests. */
AD_API ad_tensor ad_random_counter(int32_t kind, int64_t numel, double a, double b, ad_generator gen);

/* ---- generators ------------------------------------------------------------------------------------- */
AD_API ad_generator ad_generator_new(uint64_t seed);
AD_API void ad_generator_free(ad_generator g);
/* g NULL means the default CPU generator. */
AD_API int32_t ad_generator_manual_seed(ad_generator g, uint64_t seed);
AD_API ad_tensor ad_generator_get_state(ad_generator g);
AD_API int32_t ad_generator_set_state(ad_generator g, ad_tensor state);
/* Seeds every device's default generator. */
AD_API int32_t ad_manual_seed(uint64_t seed);

/* ---- pointwise -------------------------------------------------------------------------------------- */
AD_API ad_tensor ad_unary(ad_tensor t, int32_t op);
AD_API int32_t ad_unary_(ad_tensor t, int32_t op);
AD_API ad_tensor ad_binary(ad_tensor a, ad_tensor b, int32_t op);
AD_API int32_t ad_binary_(ad_tensor a, ad_tensor b, int32_t op);
/* reverse != 0 computes scalar OP t instead of t OP scalar. */
AD_API ad_tensor ad_binary_scalar(ad_tensor t, double scalar, int32_t op, int32_t reverse);
AD_API int32_t ad_binary_scalar_(ad_tensor t, double scalar, int32_t op);
AD_API ad_tensor ad_add_scaled(ad_tensor a, ad_tensor b, double alpha);
AD_API int32_t ad_add_scaled_(ad_tensor a, ad_tensor b, double alpha);
AD_API int32_t ad_addcmul_(ad_tensor t, ad_tensor t1, ad_tensor t2, double value);
AD_API int32_t ad_addcdiv_(ad_tensor t, ad_tensor t1, ad_tensor t2, double value);
AD_API int32_t ad_lerp_(ad_tensor t, ad_tensor end, double weight);
AD_API int32_t ad_copy_(ad_tensor dst, ad_tensor src);
AD_API int32_t ad_fill_(ad_tensor t, double value);
AD_API int32_t ad_zero_(ad_tensor t);
AD_API ad_tensor ad_where(ad_tensor cond, ad_tensor a, ad_tensor b);
AD_API ad_tensor ad_clamp(ad_tensor t, double min, double max, int32_t has_min, int32_t has_max);
AD_API int32_t ad_clamp_(ad_tensor t, double min, double max, int32_t has_min, int32_t has_max);
AD_API ad_tensor ad_masked_fill(ad_tensor t, ad_tensor mask, double value);

/* ---- reductions ------------------------------------------------------------------------------------- */
/* ndims 0 reduces over every dim. Arg reductions (argmax/argmin) take at most one dim. */
AD_API ad_tensor ad_reduce(ad_tensor t, int32_t op, const int64_t* dims, int32_t ndims, int32_t keepdim);
AD_API int32_t ad_topk(ad_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, ad_tensor* values,
                       ad_tensor* indices);

/* ---- shape and indexing ----------------------------------------------------------------------------- */
AD_API ad_tensor ad_view(ad_tensor t, const int64_t* shape, int32_t ndim);
AD_API ad_tensor ad_reshape(ad_tensor t, const int64_t* shape, int32_t ndim);
AD_API ad_tensor ad_expand(ad_tensor t, const int64_t* shape, int32_t ndim);
AD_API ad_tensor ad_repeat(ad_tensor t, const int64_t* repeats, int32_t ndim);
AD_API ad_tensor ad_permute(ad_tensor t, const int64_t* dims, int32_t ndim);
AD_API ad_tensor ad_flip(ad_tensor t, const int64_t* dims, int32_t ndim);
AD_API ad_tensor ad_transpose(ad_tensor t, int64_t dim0, int64_t dim1);
AD_API ad_tensor ad_flatten(ad_tensor t, int64_t start_dim, int64_t end_dim);
AD_API ad_tensor ad_unsqueeze(ad_tensor t, int64_t dim);
/* has_dim 0 squeezes every dim of size 1. */
AD_API ad_tensor ad_squeeze(ad_tensor t, int64_t dim, int32_t has_dim);
AD_API ad_tensor ad_contiguous(ad_tensor t);
AD_API ad_tensor ad_narrow(ad_tensor t, int64_t dim, int64_t start, int64_t length);
AD_API ad_tensor ad_select(ad_tensor t, int64_t dim, int64_t index);
AD_API ad_tensor ad_index_select(ad_tensor t, int64_t dim, ad_tensor index);
AD_API ad_tensor ad_gather(ad_tensor t, int64_t dim, ad_tensor index);
AD_API ad_tensor ad_cat(const ad_tensor* tensors, int32_t n, int64_t dim);
AD_API ad_tensor ad_stack(const ad_tensor* tensors, int32_t n, int64_t dim);
/* Writes up to capacity handles into out and returns how many (chunk may return fewer than asked). */
AD_API int32_t ad_chunk(ad_tensor t, int64_t chunks, int64_t dim, ad_tensor* out, int32_t capacity);

/* ---- linear algebra --------------------------------------------------------------------------------- */
AD_API ad_tensor ad_matmul(ad_tensor a, ad_tensor b);
AD_API ad_tensor ad_bmm(ad_tensor a, ad_tensor b);
/* Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices [..., n, n]; 0 on success. */
AD_API int32_t ad_linalg_eigh(ad_tensor a, ad_tensor* values, ad_tensor* vectors);
AD_API ad_tensor ad_linear(ad_tensor x, ad_tensor weight, ad_tensor bias);

/* ---- neural-network ops ----------------------------------------------------------------------------- */
AD_API ad_tensor ad_conv2d(ad_tensor x, ad_tensor weight, ad_tensor bias, const int64_t* stride,
                           const int64_t* padding, const int64_t* dilation, int64_t groups);
AD_API ad_tensor ad_conv_transpose2d(ad_tensor x, ad_tensor weight, ad_tensor bias, const int64_t* stride,
                                     const int64_t* padding, const int64_t* output_padding, int64_t groups,
                                     const int64_t* dilation);
AD_API ad_tensor ad_group_norm(ad_tensor x, int64_t groups, ad_tensor weight, ad_tensor bias, double eps);
AD_API ad_tensor ad_layer_norm(ad_tensor x, const int64_t* shape, int32_t ndim, ad_tensor weight, ad_tensor bias,
                               double eps);
AD_API ad_tensor ad_softmax(ad_tensor x, int64_t dim, int32_t log);
/* Inverted dropout; one key per call is drawn from gen (NULL: the default CPU generator) and the keep mask is a
   counter-based hash of (key, element index), identical on every device and thread count. */
AD_API ad_tensor ad_dropout(ad_tensor x, double p, int32_t train, ad_generator gen);
/* The float keep mask (0 or 1/(1-p)) that ad_dropout uses for a given key, computed by the CPU loop or, with
   tensor_ops != 0, by the tensor-operation form that runs on other devices; for tests. */
AD_API ad_tensor ad_dropout_mask(int64_t numel, double p, uint64_t key, int32_t tensor_ops);
AD_API ad_tensor ad_upsample_nearest2d(ad_tensor x, int64_t out_h, int64_t out_w);
AD_API ad_tensor ad_avg_pool2d(ad_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding);
/* reduction: 0 none, 1 mean, 2 sum. */
AD_API ad_tensor ad_mse_loss(ad_tensor a, ad_tensor b, int32_t reduction);
AD_API ad_tensor ad_pad(ad_tensor x, const int64_t* pad, int32_t npad, double value);

/* ---- autograd --------------------------------------------------------------------------------------- */
AD_API int32_t ad_requires_grad(ad_tensor t);
AD_API int32_t ad_set_requires_grad(ad_tensor t, int32_t requires_grad);
AD_API int32_t ad_is_leaf(ad_tensor t);
/* grad may be NULL for a scalar output. */
AD_API int32_t ad_backward(ad_tensor t, ad_tensor grad, int32_t retain_graph);
/* Writes the .grad handle into out, or NULL when no gradient is defined. */
AD_API int32_t ad_grad(ad_tensor t, ad_tensor* out);
/* grad NULL clears .grad. */
AD_API int32_t ad_set_grad(ad_tensor t, ad_tensor grad);
AD_API ad_tensor ad_detach(ad_tensor t);
/* Replaces t's storage by src's (tensor.data = src): how parameters become views of a flat buffer. */
AD_API int32_t ad_set_data(ad_tensor t, ad_tensor src);

/* ---- TorchScript modules and image preprocessing ---------------------------------------------------- */
typedef struct ad_script_module_s* ad_script_module;
/* Loads a TorchScript archive (torch.jit.save) onto a device and puts it in eval mode; errors name the file. */
AD_API ad_script_module ad_jit_load(const char* path, int32_t device_type, int32_t device_index);
AD_API void ad_jit_free(ad_script_module m);
AD_API int32_t ad_jit_to(ad_script_module m, int32_t device_type, int32_t device_index);
AD_API int32_t ad_jit_train(ad_script_module m, int32_t on);
/* forward(inputs..., name_i = value_i) without gradients. Returns the output tensor, or the first element of a
   tuple/list output; any other output is an error. */
AD_API ad_tensor ad_jit_forward(ad_script_module m, const ad_tensor* inputs, int32_t n, const char* const* bool_names,
                                const int32_t* bool_values, int32_t nbools);
/* Bilinear resize of a float [N, C, H, W] tensor (align_corners false), optionally antialiased when shrinking. */
AD_API ad_tensor ad_resize_bilinear(ad_tensor x, int64_t out_h, int64_t out_w, int32_t antialias);
AD_API ad_tensor ad_reflection_pad2d(ad_tensor x, int64_t left, int64_t right, int64_t top, int64_t bottom);

/* ---- distributed (c10d) ----------------------------------------------------------------------------- */
/* A process group: a TCPStore rendezvous at master_addr:master_port (rank 0 serves it) and a collective backend
   (0 gloo: CPU tensors; 1 nccl: CUDA tensors, only where libtorch has NCCL). Every step, the rendezvous included,
   fails after timeout_ms instead of hanging; failures read "<op> on rank R of W failed after S s: <cause>". */
typedef struct ad_process_group_s* ad_process_group;
/* 1 when this build has the backend, 0 when not. */
AD_API int32_t ad_dist_has_backend(int32_t backend);
/* serve_store != 0: rank 0 serves the store; 0: a launcher already serves it (torchrun's agent store). */
AD_API ad_process_group ad_dist_init(const char* master_addr, int32_t master_port, int32_t rank, int32_t world_size,
                                     int32_t backend, int64_t timeout_ms, int32_t serve_store);
AD_API void ad_dist_free(ad_process_group pg);
/* In-place sum over ranks of a contiguous tensor; average != 0 divides the sum by the world size. */
AD_API int32_t ad_dist_all_reduce(ad_process_group pg, ad_tensor tensor, int32_t average);
/* In-place copy of root's contiguous tensor to every rank. */
AD_API int32_t ad_dist_broadcast(ad_process_group pg, ad_tensor tensor, int32_t root);
/* Returns once every rank has called it; timeout_ms <= 0 uses the group's timeout (a longer one lets ranks wait
   for rank 0 to prepare data; a peer that dies still fails it at once). */
AD_API int32_t ad_dist_barrier(ad_process_group pg, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* AMBIENT_NATIVE_H */
