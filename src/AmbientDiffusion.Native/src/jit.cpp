// TorchScript modules: load a scripted or traced network from a file, move it, and call its forward without
// gradients. The real feature networks (Inception-v3 of EDM/StyleGAN3, SSCD, user-exported DINOv2) are TorchScript
// archives; torch::jit::load reads them as code plus tensors and never runs Python pickle.
#include <torch/script.h>

#include <fstream>

#include "common.h"

namespace {

// The module together with the file it came from, so that every later error names that file.
struct ScriptModule {
    torch::jit::Module module;
    std::string path;
};

ScriptModule& get_module(ad_script_module h) {
    if (h == nullptr) throw std::invalid_argument("null script module handle");
    return *reinterpret_cast<ScriptModule*>(h);
}

std::string describe(const std::string& path) { return "TorchScript file '" + path + "'"; }

// The first tensor of a forward result: the tensor itself, or the first element of a tuple or list.
at::Tensor first_tensor(const c10::IValue& output, const std::string& path) {
    if (output.isTensor()) return output.toTensor();
    if (output.isTuple()) {
        const auto& elements = output.toTupleRef().elements();
        if (!elements.empty() && elements[0].isTensor()) return elements[0].toTensor();
    } else if (output.isList()) {
        const auto list = output.toListRef();
        if (!list.empty() && list[0].isTensor()) return list[0].toTensor();
    }
    throw std::runtime_error(describe(path) + ": forward returned " + output.tagKind() +
                             ", expected a tensor or a tuple/list whose first element is a tensor");
}

}  // namespace

extern "C" {

AD_API ad_script_module ad_jit_load(const char* path, int32_t device_type, int32_t device_index) {
    AD_GUARD(nullptr, if (path == nullptr) throw std::invalid_argument("null TorchScript path");
             const std::string file(path);
             if (!std::ifstream(file, std::ios::binary).good())
                 throw std::runtime_error(describe(file) + " does not exist or cannot be read");
             const auto target = ad::device(device_type, device_index);
             torch::jit::Module module;
             try {
                 module = torch::jit::load(file, target);
             } catch (const c10::Error& e) {
                 throw std::runtime_error(describe(file) + " is not a readable TorchScript archive (" +
                                          e.what_without_backtrace() + ")");
             } catch (const std::exception& e) {
                 throw std::runtime_error(describe(file) + " is not a readable TorchScript archive (" + e.what() + ")");
             }
             if (!module.find_method("forward"))
                 throw std::runtime_error(describe(file) + " has no forward method");
             module.eval();
             return reinterpret_cast<ad_script_module>(new ScriptModule{std::move(module), file});)
}

AD_API void ad_jit_free(ad_script_module m) { delete reinterpret_cast<ScriptModule*>(m); }

AD_API int32_t ad_jit_to(ad_script_module m, int32_t device_type, int32_t device_index) {
    AD_GUARD(-1, get_module(m).module.to(ad::device(device_type, device_index)); return 0;)
}

AD_API int32_t ad_jit_train(ad_script_module m, int32_t on) {
    AD_GUARD(-1, get_module(m).module.train(on != 0); return 0;)
}

AD_API ad_tensor ad_jit_forward(ad_script_module m, const ad_tensor* inputs, int32_t n, const char* const* bool_names,
                                const int32_t* bool_values, int32_t nbools) {
    AD_GUARD(nullptr, auto& script = get_module(m);
             std::vector<c10::IValue> stack;
             for (const auto& t : ad::tensor_list(inputs, n)) stack.emplace_back(t);
             if (nbools < 0 || (nbools > 0 && (bool_names == nullptr || bool_values == nullptr)))
                 throw std::invalid_argument("invalid keyword-argument list");
             torch::jit::Kwargs kwargs;
             for (int32_t i = 0; i < nbools; ++i) {
                 if (bool_names[i] == nullptr) throw std::invalid_argument("null keyword-argument name");
                 kwargs.emplace(bool_names[i], c10::IValue(bool_values[i] != 0));
             }
             // No autograd graph: feature extraction never differentiates, and a graph would hold every activation.
             at::NoGradGuard no_grad;
             c10::IValue output;
             try {
                 output = script.module.forward(std::move(stack), kwargs);
             } catch (const c10::Error& e) {
                 throw std::runtime_error(describe(script.path) + ": forward failed: " + e.what_without_backtrace());
             } catch (const std::exception& e) {
                 // Argument-matching errors (unknown keyword, wrong type) are plain std::runtime_errors.
                 throw std::runtime_error(describe(script.path) + ": forward failed: " + e.what());
             }
             return ad::wrap(first_tensor(output, script.path));)
}

}  // extern "C"
