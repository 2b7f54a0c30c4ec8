#pragma once
#include <cstddef>
#include <cstdint>

namespace bert_embed {

// CRC-32C (Castagnoli), the checksum TensorFlow's tensor bundles store for every tensor.
// `crc` is the value so far (0 to start), so that a tensor read in chunks is checked as it is read.
uint32_t extendCrc32c(uint32_t crc, const void* data, size_t size);

// TensorFlow (like LevelDB) stores a "masked" CRC, so that a CRC of data holding CRCs stays strong.
inline uint32_t unmaskCrc32c(uint32_t masked) {
  const uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace bert_embed
