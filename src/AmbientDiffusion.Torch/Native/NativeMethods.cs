using System.Runtime.InteropServices;

namespace AmbientDiffusion.Torch.Native;

/// <summary>
/// P/Invoke declarations of the ambient_native C ABI (src/AmbientDiffusion.Native/include/ambient_native.h).
/// Every argument is blittable; failures are reported by a null handle or a -1 status, never by an exception
/// crossing the boundary, and <see cref="Check(int, string)"/> turns them into <see cref="TorchException"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    internal const string Library = "ambient_native";

    internal static string LastError() => Marshal.PtrToStringUTF8(ad_last_error()) ?? "(no message)";

    /// <summary>Returns a freshly created handle or throws with the shim's error message.</summary>
    internal static IntPtr Check(IntPtr handle, string op) =>
        handle != IntPtr.Zero ? handle : throw new TorchException(op, LastError());

    internal static int Check(int status, string op) => status >= 0 ? status : throw new TorchException(op, LastError());

    internal static long Check(long value, string op) => value >= 0 ? value : throw new TorchException(op, LastError());

    // runtime
    [LibraryImport(Library)] internal static partial int ad_abi_version();
    [LibraryImport(Library)] internal static partial IntPtr ad_torch_version();
    [LibraryImport(Library)] internal static partial IntPtr ad_last_error();
    [LibraryImport(Library)] internal static partial IntPtr ad_blas_name();
    [LibraryImport(Library)] internal static partial int ad_cuda_is_available();
    [LibraryImport(Library)] internal static partial int ad_cuda_device_count();
    [LibraryImport(Library)] internal static partial int ad_cuda_synchronize(int deviceIndex);
    [LibraryImport(Library)] internal static partial int ad_set_allow_tf32(int allow);
    [LibraryImport(Library)] internal static partial int ad_set_autocast(int deviceType, int enabled, int dtype);
    [LibraryImport(Library)] internal static partial int ad_get_num_threads();
    [LibraryImport(Library)] internal static partial int ad_set_num_threads(int threads);
    [LibraryImport(Library)] internal static partial long ad_live_tensors();
    [LibraryImport(Library)] internal static partial int ad_is_grad_enabled();
    [LibraryImport(Library)] internal static partial int ad_set_grad_enabled(int enabled);

    // tensor lifetime and metadata
    [LibraryImport(Library)] internal static partial void ad_tensor_free(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_dim(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_shape(IntPtr t, long* shape, int capacity);
    [LibraryImport(Library)] internal static partial int ad_tensor_dtype(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_device(IntPtr t, int* type, int* index);
    [LibraryImport(Library)] internal static partial long ad_tensor_numel(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_is_contiguous(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_item(IntPtr t, double* value);
    [LibraryImport(Library)] internal static partial int ad_tensor_item_int64(IntPtr t, long* value);
    [LibraryImport(Library)] internal static partial IntPtr ad_tensor_data_ptr(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_tensor_copy_to(IntPtr t, void* dst, long nbytes);
    [LibraryImport(Library)] internal static partial IntPtr ad_tensor_to(IntPtr t, int dtype, int deviceType, int deviceIndex, int copy);
    [LibraryImport(Library)] internal static partial IntPtr ad_tensor_clone(IntPtr t);
    [LibraryImport(Library)] internal static partial IntPtr ad_tensor_alias(IntPtr t);

    // creation
    [LibraryImport(Library)] internal static partial IntPtr ad_from_data(void* data, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial IntPtr ad_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial IntPtr ad_full(long* shape, int ndim, double value, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial IntPtr ad_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial IntPtr ad_random(int kind, long* shape, int ndim, double low, double high, int dtype, int deviceType, int deviceIndex, IntPtr generator);
    [LibraryImport(Library)] internal static partial int ad_random_(IntPtr t, int kind, double a, double b, IntPtr generator);

    // generators
    [LibraryImport(Library)] internal static partial IntPtr ad_generator_new(ulong seed);
    [LibraryImport(Library)] internal static partial void ad_generator_free(IntPtr generator);
    [LibraryImport(Library)] internal static partial int ad_generator_manual_seed(IntPtr generator, ulong seed);
    [LibraryImport(Library)] internal static partial IntPtr ad_generator_get_state(IntPtr generator);
    [LibraryImport(Library)] internal static partial int ad_generator_set_state(IntPtr generator, IntPtr state);
    [LibraryImport(Library)] internal static partial int ad_manual_seed(ulong seed);

    // pointwise
    [LibraryImport(Library)] internal static partial IntPtr ad_unary(IntPtr t, int op);
    [LibraryImport(Library)] internal static partial int ad_unary_(IntPtr t, int op);
    [LibraryImport(Library)] internal static partial IntPtr ad_binary(IntPtr a, IntPtr b, int op);
    [LibraryImport(Library)] internal static partial int ad_binary_(IntPtr a, IntPtr b, int op);
    [LibraryImport(Library)] internal static partial IntPtr ad_binary_scalar(IntPtr t, double scalar, int op, int reverse);
    [LibraryImport(Library)] internal static partial int ad_binary_scalar_(IntPtr t, double scalar, int op);
    [LibraryImport(Library)] internal static partial IntPtr ad_add_scaled(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Library)] internal static partial int ad_add_scaled_(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Library)] internal static partial int ad_addcmul_(IntPtr t, IntPtr t1, IntPtr t2, double value);
    [LibraryImport(Library)] internal static partial int ad_addcdiv_(IntPtr t, IntPtr t1, IntPtr t2, double value);
    [LibraryImport(Library)] internal static partial int ad_lerp_(IntPtr t, IntPtr end, double weight);
    [LibraryImport(Library)] internal static partial int ad_copy_(IntPtr dst, IntPtr src);
    [LibraryImport(Library)] internal static partial int ad_fill_(IntPtr t, double value);
    [LibraryImport(Library)] internal static partial int ad_zero_(IntPtr t);
    [LibraryImport(Library)] internal static partial IntPtr ad_where(IntPtr cond, IntPtr a, IntPtr b);
    [LibraryImport(Library)] internal static partial IntPtr ad_clamp(IntPtr t, double min, double max, int hasMin, int hasMax);
    [LibraryImport(Library)] internal static partial int ad_clamp_(IntPtr t, double min, double max, int hasMin, int hasMax);
    [LibraryImport(Library)] internal static partial IntPtr ad_masked_fill(IntPtr t, IntPtr mask, double value);

    // reductions
    [LibraryImport(Library)] internal static partial IntPtr ad_reduce(IntPtr t, int op, long* dims, int ndims, int keepdim);
    [LibraryImport(Library)] internal static partial int ad_topk(IntPtr t, long k, long dim, int largest, int sorted, IntPtr* values, IntPtr* indices);

    // shape and indexing
    [LibraryImport(Library)] internal static partial IntPtr ad_view(IntPtr t, long* shape, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_reshape(IntPtr t, long* shape, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_expand(IntPtr t, long* shape, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_repeat(IntPtr t, long* repeats, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_permute(IntPtr t, long* dims, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_flip(IntPtr t, long* dims, int ndim);
    [LibraryImport(Library)] internal static partial IntPtr ad_transpose(IntPtr t, long dim0, long dim1);
    [LibraryImport(Library)] internal static partial IntPtr ad_flatten(IntPtr t, long startDim, long endDim);
    [LibraryImport(Library)] internal static partial IntPtr ad_unsqueeze(IntPtr t, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ad_squeeze(IntPtr t, long dim, int hasDim);
    [LibraryImport(Library)] internal static partial IntPtr ad_contiguous(IntPtr t);
    [LibraryImport(Library)] internal static partial IntPtr ad_narrow(IntPtr t, long dim, long start, long length);
    [LibraryImport(Library)] internal static partial IntPtr ad_select(IntPtr t, long dim, long index);
    [LibraryImport(Library)] internal static partial IntPtr ad_index_select(IntPtr t, long dim, IntPtr index);
    [LibraryImport(Library)] internal static partial IntPtr ad_gather(IntPtr t, long dim, IntPtr index);
    [LibraryImport(Library)] internal static partial IntPtr ad_cat(IntPtr* tensors, int n, long dim);
    [LibraryImport(Library)] internal static partial IntPtr ad_stack(IntPtr* tensors, int n, long dim);
    [LibraryImport(Library)] internal static partial int ad_chunk(IntPtr t, long chunks, long dim, IntPtr* outHandles, int capacity);

    // linear algebra
    [LibraryImport(Library)] internal static partial IntPtr ad_matmul(IntPtr a, IntPtr b);
    [LibraryImport(Library)] internal static partial IntPtr ad_bmm(IntPtr a, IntPtr b);
    [LibraryImport(Library)] internal static partial int ad_linalg_eigh(IntPtr a, IntPtr* values, IntPtr* vectors);
    [LibraryImport(Library)] internal static partial IntPtr ad_linear(IntPtr x, IntPtr weight, IntPtr bias);

    // neural-network ops
    [LibraryImport(Library)] internal static partial IntPtr ad_conv2d(IntPtr x, IntPtr weight, IntPtr bias, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Library)] internal static partial IntPtr ad_conv_transpose2d(IntPtr x, IntPtr weight, IntPtr bias, long* stride, long* padding, long* outputPadding, long groups, long* dilation);
    [LibraryImport(Library)] internal static partial IntPtr ad_group_norm(IntPtr x, long groups, IntPtr weight, IntPtr bias, double eps);
    [LibraryImport(Library)] internal static partial IntPtr ad_layer_norm(IntPtr x, long* shape, int ndim, IntPtr weight, IntPtr bias, double eps);
    [LibraryImport(Library)] internal static partial IntPtr ad_softmax(IntPtr x, long dim, int log);
    [LibraryImport(Library)] internal static partial IntPtr ad_dropout(IntPtr x, double p, int train, IntPtr generator);
    [LibraryImport(Library)] internal static partial IntPtr ad_random_counter(int kind, long numel, double a, double b, IntPtr generator);
    [LibraryImport(Library)] internal static partial IntPtr ad_dropout_mask(long numel, double p, ulong key, int tensorOps);
    [LibraryImport(Library)] internal static partial IntPtr ad_upsample_nearest2d(IntPtr x, long outH, long outW);
    [LibraryImport(Library)] internal static partial IntPtr ad_avg_pool2d(IntPtr x, long* kernel, long* stride, long* padding);
    [LibraryImport(Library)] internal static partial IntPtr ad_mse_loss(IntPtr a, IntPtr b, int reduction);
    [LibraryImport(Library)] internal static partial IntPtr ad_pad(IntPtr x, long* pad, int npad, double value);

    // autograd
    [LibraryImport(Library)] internal static partial int ad_requires_grad(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_set_requires_grad(IntPtr t, int requiresGrad);
    [LibraryImport(Library)] internal static partial int ad_is_leaf(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_backward(IntPtr t, IntPtr grad, int retainGraph);
    [LibraryImport(Library)] internal static partial int ad_grad(IntPtr t, IntPtr* grad);
    [LibraryImport(Library)] internal static partial int ad_set_grad(IntPtr t, IntPtr grad);
    [LibraryImport(Library)] internal static partial IntPtr ad_detach(IntPtr t);
    [LibraryImport(Library)] internal static partial int ad_set_data(IntPtr t, IntPtr src);

    // TorchScript modules and image preprocessing
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr ad_jit_load(string path, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial void ad_jit_free(IntPtr module);
    [LibraryImport(Library)] internal static partial int ad_jit_to(IntPtr module, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static partial int ad_jit_train(IntPtr module, int on);
    [LibraryImport(Library)] internal static partial IntPtr ad_jit_forward(IntPtr module, IntPtr* inputs, int n, IntPtr* boolNames, int* boolValues, int nbools);
    [LibraryImport(Library)] internal static partial IntPtr ad_resize_bilinear(IntPtr x, long outH, long outW, int antialias);
    [LibraryImport(Library)] internal static partial IntPtr ad_reflection_pad2d(IntPtr x, long left, long right, long top, long bottom);

    // distributed (c10d)
    [LibraryImport(Library)] internal static partial int ad_dist_has_backend(int backend);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr ad_dist_init(string masterAddr, int masterPort, int rank, int worldSize, int backend, long timeoutMs, int serveStore);
    [LibraryImport(Library)] internal static partial void ad_dist_free(IntPtr group);
    [LibraryImport(Library)] internal static partial int ad_dist_all_reduce(IntPtr group, IntPtr tensor, int average);
    [LibraryImport(Library)] internal static partial int ad_dist_broadcast(IntPtr group, IntPtr tensor, int root);
    [LibraryImport(Library)] internal static partial int ad_dist_barrier(IntPtr group, long timeoutMs);
}
