#include "model/safetensors_reader.h"

#include <algorithm>
#include <fstream>
#include <memory>

#include "common/job_error.h"
#include "model/crc32c.h"
#include "model/finite_check.h"

namespace bert_embed {
namespace {

// The TypeScript layer has checked every location; what remains here guards memory (the bytes read
// must fit the tensor they are read into) and the bytes themselves (CRC-32C, NaN and infinity).
torch::Dtype storedType(const TensorLocation& location) {
  if (location.dtype == "F32") return torch::kFloat32;
  if (location.dtype == "F16") return torch::kFloat16;
  if (location.dtype == "BF16") return torch::kBFloat16;
  throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.storedName + " has unsupported dtype " + location.dtype);
}

// Read a chunk at a time and check each chunk for NaN and infinity while it is still in the cache.
constexpr std::streamsize kChunkBytes = 1 << 20;

std::vector<int64_t> storedShape(const TensorLocation& location) {
  if (!location.transposed) return location.shape;
  if (location.shape.size() != 2) {
    throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.storedName + " is marked transposed but is not a matrix");
  }
  return {location.shape[1], location.shape[0]};
}

std::string hex(uint32_t value) {
  static const char* digits = "0123456789abcdef";
  std::string text = "0x00000000";
  for (int i = 9; i >= 2; --i, value >>= 4) text[static_cast<size_t>(i)] = digits[value & 0xfu];
  return text;
}

// One open stream per file, opened when a tensor first needs it.
class Files {
 public:
  std::ifstream& open(const std::string& path) {
    auto& stream = streams_[path];
    if (!stream) {
      stream = std::make_unique<std::ifstream>(path, std::ios::binary);
      if (!*stream) throw CodedError("ERR_MODEL_LOAD", "cannot open " + path);
    }
    return *stream;
  }

 private:
  std::unordered_map<std::string, std::unique_ptr<std::ifstream>> streams_;
};

torch::Tensor readTensor(std::ifstream& file, const TensorLocation& location) {
  const auto dtype = storedType(location);
  auto tensor = torch::empty(storedShape(location), torch::TensorOptions().dtype(dtype));
  const auto bytes = static_cast<std::streamsize>(location.end - location.begin);
  if (location.end < location.begin || static_cast<uint64_t>(bytes) != tensor.nbytes()) {
    throw CodedError("ERR_MODEL_FORMAT", "tensor " + location.storedName + " has " + std::to_string(bytes) +
                                             " bytes for its shape of " + std::to_string(tensor.nbytes()));
  }
  file.clear();
  file.seekg(static_cast<std::streamoff>(location.begin));
  auto* data = static_cast<char*>(tensor.data_ptr());
  const auto elementBytes = static_cast<std::streamsize>(tensor.element_size());
  // A whole number of elements per chunk.
  const std::streamsize chunk = kChunkBytes - kChunkBytes % elementBytes;
  uint32_t crc = 0;
  int64_t firstBad = -1;
  for (std::streamsize done = 0; done < bytes;) {
    const std::streamsize want = std::min(chunk, bytes - done);
    file.read(data + done, want);
    if (file.gcount() != want) throw CodedError("ERR_MODEL_FORMAT", location.file + " ends inside tensor " + location.storedName);
    if (location.maskedCrc32c) crc = extendCrc32c(crc, data + done, static_cast<size_t>(want));
    if (firstBad < 0) {
      const int64_t bad = firstNonFinite(data + done, want / elementBytes, dtype);
      if (bad >= 0) firstBad = done / elementBytes + bad;
    }
    done += want;
  }
  // The checksum first: corrupted bytes are named as such, not as the NaN they may have become.
  if (location.maskedCrc32c && crc != unmaskCrc32c(*location.maskedCrc32c)) {
    throw CodedError("ERR_MODEL_FORMAT", location.file + ": tensor " + location.storedName + " fails its CRC-32C check (the index says " +
                                             hex(unmaskCrc32c(*location.maskedCrc32c)) + ", its " + std::to_string(bytes) +
                                             " bytes give " + hex(crc) + "): the data file is corrupted");
  }
  if (firstBad >= 0) throwNonFinite(location.file, location.storedName, tensor, firstBad);
  auto floats = tensor.to(torch::kFloat32);
  return location.transposed ? floats.t().contiguous() : floats;
}

}  // namespace

TensorMap readSafetensors(const std::vector<TensorLocation>& locations) {
  Files files;
  TensorMap tensors;
  for (const auto& location : locations) tensors.emplace(location.name, readTensor(files.open(location.file), location));
  return tensors;
}

}  // namespace bert_embed
