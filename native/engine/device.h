#pragma once
#include <torch/torch.h>

#include <string>

namespace bert_embed {

// "cpu", "cuda" or "cuda:N", checked against what this libtorch and machine offer.
torch::Device parseDevice(const std::string& name);
// "float32", "float16" or "bfloat16", checked against the device.
torch::Dtype parseDtype(const std::string& name, const torch::Device& device);

bool cudaCompiled();
int64_t cudaDeviceCount();
// The share of a CUDA device's memory this process's caching allocator may take (0 < fraction <= 1).
void limitCudaMemory(const torch::Device& device, double fraction);

}  // namespace bert_embed
