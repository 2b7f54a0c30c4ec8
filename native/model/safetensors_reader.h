#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bert_embed {

// Where one tensor's bytes lie: in a safetensors file, or in a TensorFlow checkpoint's data shard.
// The JS layer parses and validates the headers and indexes (names, shapes, offsets against the
// file sizes: lib/model/safetensors-index.ts, lib/model/tf-checkpoint/); this side only reads bytes.
struct TensorLocation {
  std::string name;        // canonical Hugging Face name: no "bert." prefix, LayerNorm weight/bias
  std::string storedName;  // as the file spells it, for messages
  std::string file;        // the file holding the bytes
  std::string dtype;       // F32, F16, BF16
  std::vector<int64_t> shape;  // torch's layout ([out, in] for a linear weight)
  uint64_t begin = 0;          // absolute file offsets
  uint64_t end = 0;
  // Stored as TensorFlow's dense kernels are, [in, out]: transposed into `shape` once read.
  bool transposed = false;
  // TensorFlow's masked CRC-32C of the stored bytes, checked as they are read.
  std::optional<uint32_t> maskedCrc32c;
};

using TensorMap = std::unordered_map<std::string, torch::Tensor>;

// Reads the listed tensors as float32 CPU tensors in torch's layout, each from its own file.
TensorMap readSafetensors(const std::vector<TensorLocation>& locations);

}  // namespace bert_embed
