#include "model/safetensors_reader.h"

#include <fstream>

#include "common/job_error.h"

namespace bert_embed {
namespace {

torch::Dtype storedType(const TensorLocation& location) {
  if (location.dtype == "F32") return torch::kFloat32;
  if (location.dtype == "F16") return torch::kFloat16;
  if (location.dtype == "BF16") return torch::kBFloat16;
  throw CodedError("ERR_MODEL_FORMAT",
                   "tensor " + location.name + " has unsupported dtype " + location.dtype);
}

}  // namespace

TensorMap readSafetensors(const std::string& path, const std::vector<TensorLocation>& locations) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CodedError("ERR_MODEL_LOAD", "cannot open " + path);
  TensorMap tensors;
  for (const auto& location : locations) {
    auto tensor = torch::empty(location.shape, torch::TensorOptions().dtype(storedType(location)));
    const auto bytes = static_cast<std::streamsize>(location.end - location.begin);
    if (static_cast<uint64_t>(bytes) != tensor.nbytes()) {
      throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.name + " has " +
                                               std::to_string(bytes) + " bytes for its shape of " +
                                               std::to_string(tensor.nbytes()));
    }
    file.seekg(static_cast<std::streamoff>(location.begin));
    file.read(static_cast<char*>(tensor.data_ptr()), bytes);
    if (file.gcount() != bytes) {
      throw CodedError("ERR_MODEL_FORMAT", path + " ends inside tensor " + location.name);
    }
    tensors.emplace(location.name, tensor.to(torch::kFloat32));
  }
  return tensors;
}

}  // namespace bert_embed
