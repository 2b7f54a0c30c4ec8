#include "cpu/fused_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace bert_embed {
namespace {

// exp(x) for the softmax: 2ⁿ·p(r) with r = x − n·ln2 and a degree-6 polynomial (relative error
// about 2e-7), written so the compiler vectorizes it; inputs far below zero give exactly 0 as expf
// would for masked keys.
__attribute__((always_inline)) inline float softmaxExp(float x) {
  const float clamped = std::min(std::max(x, -87.0f), 88.0f);
  const float n = __builtin_floorf(clamped * 1.44269504088896341f + 0.5f);
  const float r = clamped - n * 0.693145751953125f - n * 1.428606820309417232e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float twoToN;
  std::memcpy(&twoToN, &bits, sizeof twoToN);
  return x < -87.0f ? 0.0f : p * twoToN;
}

struct HeadTask {
  const float* qkv;      // the sentence's first row
  const float* bias;     // the sentence's [seq] key bias
  float* context;        // the sentence's first output row
  int64_t seq;
  int64_t hidden;
  int64_t headSize;
  int64_t headOffset;    // h * headSize
  float scale;
  float* keysTransposed;  // [headSize, seq] scratch
  float* scores;          // [seq] scratch
};

// One head of one sentence. Cloned for AVX-512, AVX2 and baseline x86-64; every loop runs over a
// contiguous axis (keys for the scores, head dimensions for the context) so each vectorizes.
__attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))
void attendOneHead(const HeadTask& t) {
  const int64_t rowStride = 3 * t.hidden;
  const float* queries = t.qkv + t.headOffset;
  const float* keys = t.qkv + t.hidden + t.headOffset;
  const float* values = t.qkv + 2 * t.hidden + t.headOffset;
  for (int64_t j = 0; j < t.seq; ++j) {
    const float* key = keys + j * rowStride;
    for (int64_t d = 0; d < t.headSize; ++d) t.keysTransposed[d * t.seq + j] = key[d];
  }
  for (int64_t i = 0; i < t.seq; ++i) {
    const float* query = queries + i * rowStride;
    float* scores = t.scores;
    for (int64_t j = 0; j < t.seq; ++j) scores[j] = 0.0f;
    for (int64_t d = 0; d < t.headSize; ++d) {
      const float q = query[d];
      const float* column = t.keysTransposed + d * t.seq;
      for (int64_t j = 0; j < t.seq; ++j) scores[j] += q * column[j];
    }
    float highest = -3.402823466e38f;
#pragma omp simd reduction(max : highest)
    for (int64_t j = 0; j < t.seq; ++j) {
      scores[j] = scores[j] * t.scale + t.bias[j];
      highest = std::max(highest, scores[j]);
    }
    float total = 0.0f;
#pragma omp simd reduction(+ : total)
    for (int64_t j = 0; j < t.seq; ++j) {
      scores[j] = softmaxExp(scores[j] - highest);
      total += scores[j];
    }
    const float normalizer = 1.0f / total;
    float* out = t.context + i * t.hidden + t.headOffset;
    for (int64_t d = 0; d < t.headSize; ++d) out[d] = 0.0f;
    for (int64_t j = 0; j < t.seq; ++j) {
      const float weight = scores[j] * normalizer;
      const float* value = values + j * rowStride;
      for (int64_t d = 0; d < t.headSize; ++d) out[d] += weight * value[d];
    }
  }
}

}  // namespace

torch::Tensor fusedSelfAttention(const torch::Tensor& qkv, const torch::Tensor& bias, int64_t heads, double scale) {
  TORCH_CHECK(qkv.dim() == 3 && qkv.scalar_type() == torch::kFloat32 && qkv.size(2) % (3 * heads) == 0,
              "fusedSelfAttention: expected float32 qkv [batch, seq, 3 * hidden], got ", qkv.sizes());
  const int64_t batch = qkv.size(0);
  const int64_t seq = qkv.size(1);
  const int64_t hidden = qkv.size(2) / 3;
  const int64_t headSize = hidden / heads;
  auto input = qkv.contiguous();
  auto keyBias = bias.to(torch::kFloat32).contiguous();
  TORCH_CHECK(keyBias.numel() == batch * seq, "fusedSelfAttention: bias must hold batch * seq values, got ", bias.sizes());
  auto context = torch::empty({batch, seq, hidden}, torch::kFloat32);
  const float* qkvData = input.data_ptr<float>();
  const float* biasData = keyBias.data_ptr<float>();
  float* contextData = context.data_ptr<float>();
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>(headSize * seq + seq));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t sentence = task / heads;
      const int64_t head = task % heads;
      attendOneHead({qkvData + sentence * seq * 3 * hidden, biasData + sentence * seq,
                     contextData + sentence * seq * hidden, seq, hidden, headSize, head * headSize,
                     static_cast<float>(scale), scratch.data(), scratch.data() + headSize * seq});
    }
  });
  return context;
}

}  // namespace bert_embed
