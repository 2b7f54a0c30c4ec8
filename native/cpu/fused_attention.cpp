#include "cpu/fused_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace bert_embed {
namespace {

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

__attribute__((always_inline)) inline Block splat(float value) { return Block{} + value; }

__attribute__((always_inline)) inline float largestLane(const Block& block) {
  float largest = block[0];
  for (int64_t lane = 1; lane < kKeyBlock; ++lane) largest = std::max(largest, block[lane]);
  return largest;
}

__attribute__((always_inline)) inline float laneSum(const Block& block) {
  float sum = 0.0f;
  for (int64_t lane = 0; lane < kKeyBlock; ++lane) sum += block[lane];
  return sum;
}

// exp(x) for the softmax, a whole Block at a time: 2ⁿ·p(r) with n = round(x/ln2), r = x − n·ln2
// and a degree-6 polynomial (relative error about 2e-7). n is rounded by adding 1.5·2²³, which
// leaves it in the low mantissa bits; inputs below −87 give exactly 0, as expf would for masked keys.
__attribute__((always_inline)) inline Block softmaxExp(const Block& x) {
  typedef int32_t Bits __attribute__((vector_size(sizeof(Block))));
  const Block roundingShift = splat(12582912.0f);
  Block clamped = x < splat(-87.0f) ? splat(-87.0f) : x;
  clamped = clamped > splat(88.0f) ? splat(88.0f) : clamped;
  const Block shifted = clamped * 1.44269504088896341f + roundingShift;
  const Block n = shifted - roundingShift;
  const Block r = clamped - n * 0.693145751953125f - n * 1.428606820309417232e-6f;
  Block p = splat(1.0f / 720.0f);
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const Bits exponent = ((Bits)shifted - (Bits)roundingShift + 127) << 23;
  const Block result = p * (Block)exponent;
  return x < splat(-87.0f) ? Block{} : result;
}

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
  float* values;          // [seq, headSize] scratch: the head's values, rows next to each other
  float* keyBias;         // [paddedSeq] scratch
  float* scores;          // [paddedSeq] scratch
};

// One head of one sentence. Keys are transposed and values gathered into scratch first, so every
// inner loop reads contiguous memory (the rows of qkv are 3·hidden floats apart: a page each at
// bert-base widths); sums run in several registers at once so the adds do not wait on each other.
// Compiled once per instruction set below.
__attribute__((always_inline)) inline void attendOneHead(const HeadTask& t) {
  constexpr int64_t kLanes = 4;  // independent accumulators
  const int64_t rowStride = 3 * t.hidden;
  const int64_t keys = t.paddedSeq;
  const int64_t headSize = t.headSize;
  const float* queries = t.qkv + t.headOffset;
  const float* keyRows = t.qkv + t.hidden + t.headOffset;
  const float* valueRows = t.qkv + 2 * t.hidden + t.headOffset;
  // Padding keys: zero vectors whose bias sends their weight to exactly 0.
  for (int64_t j = 0; j < keys; ++j) t.keyBias[j] = j < t.seq ? t.bias[j] : -3.402823466e38f;
  for (int64_t d = 0; d < headSize; ++d) {
    for (int64_t j = t.seq; j < keys; ++j) t.keysTransposed[d * keys + j] = 0.0f;
  }
  for (int64_t j = 0; j < t.seq; ++j) {
    const float* key = keyRows + j * rowStride;
    for (int64_t d = 0; d < headSize; ++d) t.keysTransposed[d * keys + j] = key[d];
    std::memcpy(t.values + j * headSize, valueRows + j * rowStride, headSize * sizeof(float));
  }
  const int64_t wholeBlocks = headSize / kDimBlock;
  float* __restrict scores = t.scores;
  for (int64_t i = 0; i < t.seq; ++i) {
    const float* query = queries + i * rowStride;
    // Scores, kLanes blocks of keys at a time.
    for (int64_t first = 0; first < keys; first += kLanes * kKeyBlock) {
      const int64_t blocks = std::min<int64_t>(kLanes, (keys - first) / kKeyBlock);
      Block sums[kLanes] = {};
      const float* column = t.keysTransposed + first;
      for (int64_t d = 0; d < headSize; ++d) {
        const float q = query[d] * t.scale;
        for (int64_t b = 0; b < kLanes; ++b) {
          if (b < blocks) sums[b] += loadBlock(column + d * keys + b * kKeyBlock) * q;
        }
      }
      for (int64_t b = 0; b < blocks; ++b) {
        storeBlock(scores + first + b * kKeyBlock, sums[b] + loadBlock(t.keyBias + first + b * kKeyBlock));
      }
    }
    Block highestBlock = splat(-3.402823466e38f);
    for (int64_t j = 0; j < keys; j += kKeyBlock) {
      const Block block = loadBlock(scores + j);
      highestBlock = block > highestBlock ? block : highestBlock;
    }
    const float highest = largestLane(highestBlock);
    Block totals = {};
    for (int64_t j = 0; j < keys; j += kKeyBlock) {
      const Block weights = softmaxExp(loadBlock(scores + j) - highest);
      storeBlock(scores + j, weights);
      totals += weights;
    }
    const float normalizer = 1.0f / laneSum(totals);
    float* __restrict out = t.context + i * t.hidden + t.headOffset;
    // The weighted sum of values: up to kLanes blocks of dimensions, two keys at a time.
    for (int64_t first = 0; first < wholeBlocks; first += kLanes) {
      const int64_t blocks = std::min<int64_t>(kLanes, wholeBlocks - first);
      Block even[kLanes] = {};
      Block odd[kLanes] = {};
      const float* value = t.values + first * kDimBlock;
      int64_t j = 0;
      for (; j + 1 < t.seq; j += 2) {
        for (int64_t b = 0; b < kLanes; ++b) {
          if (b < blocks) {
            even[b] += loadBlock(value + j * headSize + b * kDimBlock) * scores[j];
            odd[b] += loadBlock(value + (j + 1) * headSize + b * kDimBlock) * scores[j + 1];
          }
        }
      }
      if (j < t.seq) {
        for (int64_t b = 0; b < blocks; ++b) even[b] += loadBlock(value + j * headSize + b * kDimBlock) * scores[j];
      }
      for (int64_t b = 0; b < blocks; ++b) storeBlock(out + (first + b) * kDimBlock, (even[b] + odd[b]) * normalizer);
    }
    // Head sizes that are not whole blocks (24, say): the rest one dimension at a time.
    for (int64_t k = wholeBlocks * kDimBlock; k < headSize; ++k) {
      float sum = 0.0f;
      for (int64_t j = 0; j < t.seq; ++j) sum += scores[j] * t.values[j * headSize + k];
      out[k] = sum * normalizer;
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
    std::vector<float> scratch(static_cast<size_t>((2 * headSize + 2) * paddedSeq));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t sentence = task / heads;
      const int64_t head = task % heads;
      attend({qkvData + sentence * seq * 3 * hidden, biasData + sentence * seq, contextData + sentence * seq * hidden,
                     seq, paddedSeq, hidden, headSize, head * headSize, static_cast<float>(scale), scratch.data(),
                     scratch.data() + headSize * paddedSeq, scratch.data() + 2 * headSize * paddedSeq,
                     scratch.data() + (2 * headSize + 1) * paddedSeq});
    }
  });
  return context;
}

}  // namespace bert_embed
