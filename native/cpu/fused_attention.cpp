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

// Key positions are padded to a multiple of this (one AVX-512 register of floats), so the loops
// over keys run in whole vectors instead of falling into scalar remainders at short lengths.
constexpr int64_t kKeyBlock = 16;
// Head dimensions are summed this many at a time (head sizes are 32 or 64 in practice).
constexpr int64_t kDimBlock = 16;

// Always inlined into the per-instruction-set kernels, so the vector ABI warning does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
// 16 floats: one AVX-512 register, two AVX2 ones, four SSE ones, as the instruction set allows.
typedef float Block __attribute__((vector_size(kKeyBlock * sizeof(float))));
static_assert(kKeyBlock == kDimBlock, "keys and head dimensions share the Block type");

__attribute__((always_inline)) inline Block loadBlock(const float* from) {
  Block block;
  std::memcpy(&block, from, sizeof block);
  return block;
}

__attribute__((always_inline)) inline void storeBlock(float* to, const Block& block) { std::memcpy(to, &block, sizeof block); }

struct HeadTask {
  const float* qkv;      // the sentence's first row
  const float* bias;     // the sentence's [seq] key bias
  float* context;        // the sentence's first output row
  int64_t seq;
  int64_t paddedSeq;     // seq rounded up to kKeyBlock
  int64_t hidden;
  int64_t headSize;
  int64_t headOffset;    // h * headSize
  float scale;
  float* keysTransposed;  // [headSize, paddedSeq] scratch
  float* keyBias;         // [paddedSeq] scratch
  float* scores;          // [paddedSeq] scratch
};

// One head of one sentence. Every loop runs over a contiguous axis (keys for the scores, head
// dimensions for the context) so each vectorizes; compiled once per instruction set below.
__attribute__((always_inline)) inline void attendOneHead(const HeadTask& t) {
  const int64_t rowStride = 3 * t.hidden;
  const int64_t keys = t.paddedSeq;
  const float* queries = t.qkv + t.headOffset;
  const float* keyRows = t.qkv + t.hidden + t.headOffset;
  const float* valueRows = t.qkv + 2 * t.hidden + t.headOffset;
  // Padding keys: zero vectors whose bias sends their weight to exactly 0.
  for (int64_t j = 0; j < keys; ++j) t.keyBias[j] = j < t.seq ? t.bias[j] : -3.402823466e38f;
  for (int64_t d = 0; d < t.headSize; ++d) {
    for (int64_t j = t.seq; j < keys; ++j) t.keysTransposed[d * keys + j] = 0.0f;
  }
  for (int64_t j = 0; j < t.seq; ++j) {
    const float* key = keyRows + j * rowStride;
    for (int64_t d = 0; d < t.headSize; ++d) t.keysTransposed[d * keys + j] = key[d];
  }
  float* __restrict scores = t.scores;
  for (int64_t i = 0; i < t.seq; ++i) {
    const float* query = queries + i * rowStride;
    // Scores a block of keys at a time, the block's sums held in one register.
    for (int64_t block = 0; block < keys; block += kKeyBlock) {
      Block sums = {};
      const float* column = t.keysTransposed + block;
      for (int64_t d = 0; d < t.headSize; ++d) sums += loadBlock(column + d * keys) * (query[d] * t.scale);
      storeBlock(scores + block, sums + loadBlock(t.keyBias + block));
    }
    float highest = -3.402823466e38f;
#pragma omp simd reduction(max : highest)
    for (int64_t j = 0; j < keys; ++j) highest = std::max(highest, scores[j]);
    float total = 0.0f;
#pragma omp simd reduction(+ : total)
    for (int64_t j = 0; j < keys; ++j) {
      scores[j] = softmaxExp(scores[j] - highest);
      total += scores[j];
    }
    const float normalizer = 1.0f / total;
    float* __restrict out = t.context + i * t.hidden + t.headOffset;
    // The weighted sum of values, kDimBlock dimensions at a time in one register.
    for (int64_t block = 0; block < t.headSize; block += kDimBlock) {
      const float* value = valueRows + block;
      if (t.headSize - block >= kDimBlock) {
        Block sums = {};
        for (int64_t j = 0; j < t.seq; ++j) sums += loadBlock(value + j * rowStride) * scores[j];
        storeBlock(out + block, sums * normalizer);
      } else {
        for (int64_t k = 0; block + k < t.headSize; ++k) {
          float sum = 0.0f;
          for (int64_t j = 0; j < t.seq; ++j) sum += scores[j] * value[j * rowStride + k];
          out[block + k] = sum * normalizer;
        }
      }
    }
  }
}

// Chosen at run time by what the CPU has. (GCC's target_clones picks by CPU model for `arch=`
// clones, and so fell back to SSE2 on AMD's AVX-512 chips.)
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,prefer-vector-width=512")))
void attendOneHeadAvx512(const HeadTask& t) { attendOneHead(t); }
__attribute__((target("avx2,fma"))) void attendOneHeadAvx2(const HeadTask& t) { attendOneHead(t); }
void attendOneHeadBaseline(const HeadTask& t) { attendOneHead(t); }

using HeadKernel = void (*)(const HeadTask&);

HeadKernel headKernel() {
  static const HeadKernel kernel = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw")) {
      return &attendOneHeadAvx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &attendOneHeadAvx2;
    return &attendOneHeadBaseline;
  }();
  return kernel;
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
  const int64_t paddedSeq = (seq + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
  const HeadKernel attend = headKernel();
  at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(static_cast<size_t>((headSize + 2) * paddedSeq));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t sentence = task / heads;
      const int64_t head = task % heads;
      attend({qkvData + sentence * seq * 3 * hidden, biasData + sentence * seq, contextData + sentence * seq * hidden,
                     seq, paddedSeq, hidden, headSize, head * headSize, static_cast<float>(scale), scratch.data(),
                     scratch.data() + headSize * paddedSeq, scratch.data() + (headSize + 1) * paddedSeq});
    }
  });
  return context;
}

}  // namespace bert_embed
