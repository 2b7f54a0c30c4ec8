#include "model/safetensors_reader.h"

#include <algorithm>
#include <fstream>

#include "common/job_error.h"
#include "model/finite_check.h"

namespace bert_embed {
namespace {

// The TypeScript layer has checked every location (lib/model/safetensors-index.ts); what remains
// here guards memory: the bytes read must fit the tensor they are read into.
torch::Dtype storedType(const TensorLocation& location) {
  if (location.dtype == "F32") return torch::kFloat32;
  if (location.dtype == "F16") return torch::kFloat16;
  if (location.dtype == "BF16") return torch::kBFloat16;
  throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.name + " has unsupported dtype " + location.dtype);
}

// Read a chunk at a time and check each chunk for NaN and infinity while it is still in the cache.
constexpr std::streamsize kChunkBytes = 1 << 20;

}  // namespace

TensorMap readSafetensors(const std::string& path, const std::vector<TensorLocation>& locations) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw CodedError("ERR_MODEL_LOAD", "cannot open " + path);
  TensorMap tensors;
  for (const auto& location : locations) {
    const auto dtype = storedType(location);
    auto tensor = torch::empty(location.shape, torch::TensorOptions().dtype(dtype));
    const auto bytes = static_cast<std::streamsize>(location.end - location.begin);
    if (static_cast<uint64_t>(bytes) != tensor.nbytes()) {
      throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.name + " has " + std::to_string(bytes) +
                                               " bytes for its shape of " + std::to_string(tensor.nbytes()));
    }
    file.seekg(static_cast<std::streamoff>(location.begin));
    auto* data = static_cast<char*>(tensor.data_ptr());
    const auto elementBytes = static_cast<std::streamsize>(tensor.element_size());
    // A whole number of elements per chunk.
    const std::streamsize chunk = kChunkBytes - kChunkBytes % elementBytes;
    for (std::streamsize done = 0; done < bytes;) {
      const std::streamsize want = std::min(chunk, bytes - done);
      file.read(data + done, want);
      if (file.gcount() != want) throw CodedError("ERR_MODEL_FORMAT", path + " ends inside tensor " + location.name);
      const int64_t bad = firstNonFinite(data + done, want / elementBytes, dtype);
      if (bad >= 0) throwNonFinite(path, location.name, tensor, done / elementBytes + bad);
      done += want;
    }
    tensors.emplace(location.name, tensor.to(torch::kFloat32));
  }
  return tensors;
}

}  // namespace bert_embed
