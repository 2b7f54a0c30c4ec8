#pragma once
#include <torch/torch.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace bert_embed {

// Where one tensor lies in a safetensors file. The JS layer parses and validates the
// header (names, shapes, offsets against the file size); this side only reads bytes.
struct TensorLocation {
  std::string name;  // canonical Hugging Face name: no "bert." prefix, LayerNorm weight/bias
  std::string dtype;  // F32, F16, BF16
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // absolute file offsets
  uint64_t end = 0;
};

using TensorMap = std::unordered_map<std::string, torch::Tensor>;

// Reads the listed tensors as float32 CPU tensors.
TensorMap readSafetensors(const std::string& path, const std::vector<TensorLocation>& locations);

}  // namespace bert_embed
