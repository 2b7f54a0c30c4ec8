// Entry point of the addon: the NativeModel class and what this libtorch build can do.
#include <napi.h>
#include <torch/version.h>

#include "engine/cpu_allocator.h"
#include "engine/cpu_features.h"
#include "cpu/fused_attention.h"
#include "engine/device.h"
#include "model/bert_runner.h"
#include "napi/native_model.h"

namespace {

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(bert_embed::cudaDeviceCount()));
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  bert_embed::installCachingCpuAllocator();
  exports.Set("NativeModel", bert_embed::NativeModel::define(env));
  exports.Set("torchVersion", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." +
                                                         std::to_string(TORCH_VERSION_MINOR) + "." +
                                                         std::to_string(TORCH_VERSION_PATCH)));
  exports.Set("cudaCompiled", Napi::Boolean::New(env, bert_embed::cudaCompiled()));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, cudaDeviceCount));
  exports.Set("oneDnnLinear", Napi::Boolean::New(env, bert_embed::oneDnnLinearEnabled()));
  // dtype 'bfloat16' on the CPU: linear layers on oneDNN's bf16 kernels (this CPU has avx512_bf16 or
  // AMX), the rest in float32; false: the whole model on torch's bfloat16 ops.
  exports.Set("oneDnnBf16Linear", Napi::Boolean::New(env, bert_embed::oneDnnBf16LinearEnabled()));
  // What the CPU paths chose on this CPU, and the instruction-set class they chose by (engine/cpu_features.h).
  auto cpu = Napi::Object::New(env);
  cpu.Set("isaClass", bert_embed::cpuIsaClass());
  cpu.Set("attentionKernel", bert_embed::attentionKernelName());
  cpu.Set("int8Kernel", bert_embed::int8KernelDescription());
  cpu.Set("bfloat16", bert_embed::cpuHasBf16());
  exports.Set("cpu", cpu);
  return exports;
}

}  // namespace

NODE_API_MODULE(bert_embed_native, init)
