#include "engine/device.h"

#include <ATen/Context.h>
#ifdef BERT_EMBED_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "common/job_error.h"
#include "engine/cpu_features.h"

namespace bert_embed {

// Whether the libtorch is a CUDA build. Not at::hasCUDA(): torch 2.x answers that by counting devices,
// so a CUDA libtorch on a machine without a GPU would read as a CPU-only one.
#ifdef BERT_EMBED_WITH_CUDA
bool cudaCompiled() { return true; }
#else
bool cudaCompiled() { return at::hasCUDA(); }
#endif

int64_t cudaDeviceCount() { return cudaCompiled() ? static_cast<int64_t>(torch::cuda::device_count()) : 0; }

torch::Device parseDevice(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw CodedError("ERR_INVALID_ARG", "Expected 'cpu', 'cuda' or 'cuda:N' for device but received '" + name + "'");
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda()) {
    throw CodedError("ERR_INVALID_ARG", "Expected 'cpu', 'cuda' or 'cuda:N' for device but received '" + name + "'");
  }
  if (!cudaCompiled()) {
    throw CodedError("ERR_CUDA_UNAVAILABLE",
                     "device '" + name + "' was requested, but the libtorch this addon was built against has no CUDA "
                     "support. Rebuild against a CUDA libtorch (set LIBTORCH_DIR, or install a CUDA build of python torch) "
                     "or use device 'cpu'");
  }
  const int64_t count = cudaDeviceCount();
  const int64_t index = device.has_index() ? device.index() : 0;
  if (index >= count) {
    throw CodedError("ERR_CUDA_UNAVAILABLE", "device '" + name + "' was requested, but " + std::to_string(count) +
                                                 " CUDA device(s) are visible");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void limitCudaMemory(const torch::Device& device, double fraction) {
#ifdef BERT_EMBED_WITH_CUDA
  // Process-wide for that device, as bert-as-service's per_process_gpu_memory_fraction: allocations
  // beyond it fail as out-of-memory, which the scheduler answers by splitting the batch.
  c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, device.index());
#else
  (void)fraction;
  throw CodedError("ERR_CUDA_UNAVAILABLE", "gpuMemoryFraction needs a CUDA libtorch, and this addon was built without one (device '" + device.str() + "')");
#endif
}

torch::Dtype parseDtype(const std::string& name, const torch::Device& device) {
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") {
    if (device.is_cpu() && !cpuHasBf16()) {
      // torch's bfloat16 ops emulate it there, about 43 times slower than float32 (BENCHMARKS.md).
      throw CodedError("ERR_UNSUPPORTED", "dtype 'bfloat16' on the CPU needs bf16 instructions (avx512_bf16 or AMX), and this CPU has " +
                                              cpuIsaClass() + ". Use 'int8' (faster than float32 here) or 'float32'");
    }
    return torch::kBFloat16;
  }
  if (name == "float16") {
    if (device.is_cpu()) {
      throw CodedError("ERR_INVALID_ARG",
                       "dtype 'float16' needs a CUDA device: libtorch has no float16 matrix kernels on the CPU. "
                       "Use 'bfloat16' or 'float32' on the CPU");
    }
    return torch::kFloat16;
  }
  throw CodedError("ERR_INVALID_ARG", "Expected 'float32', 'float16' or 'bfloat16' for dtype but received '" + name + "'");
}

}  // namespace bert_embed
