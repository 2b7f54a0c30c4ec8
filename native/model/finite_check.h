#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace bert_embed {

// Refusing weights that are NaN or infinite at load: a model holding one can only answer NaN.

// Index of the first NaN or infinite element among `count` elements of `dtype` (F32, F16 or BF16,
// as stored) at `data`, or -1 when all are finite. A compare over the bits without the sign,
// vectorized by the compiler: cheap enough to run on every chunk of a tensor as it is read.
int64_t firstNonFinite(const void* data, int64_t count, torch::Dtype dtype);

// Throws ERR_MODEL_NON_FINITE naming `file`, tensor `name` and what element `index` of `tensor` holds.
void throwNonFinite(const std::string& file, const std::string& name, const torch::Tensor& tensor, int64_t index);

// Checks a whole tensor (TorchScript parameters and buffers); integer tensors are skipped.
void checkFinite(const std::string& file, const std::string& name, const torch::Tensor& tensor);

}  // namespace bert_embed
