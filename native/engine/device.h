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

}  // namespace bert_embed
