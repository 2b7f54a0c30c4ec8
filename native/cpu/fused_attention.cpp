#include "cpu/fused_attention.h"

#include "engine/cpu_features.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace bert_embed {
namespace {

// Key positions are padded to a multiple of this (one AVX-512 register of floats, two AVX2 ones),
// so the loops over keys run in whole vectors instead of falling into scalar remainders.
constexpr int64_t kKeyBlock = 16;

// Float's lowest value: the bias of a padding key (as BertRunner gives it), whose weight is then
// exactly 0, and the start of a running maximum.
constexpr float kLowest = std::numeric_limits<float>::lowest();

// Always inlined into the per-instruction-set kernels, so the vector ABI warning does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
// The kernel is written over Vec<W>, W floats: one register of the instruction set it is compiled
// for (16 for AVX-512, 8 for AVX2, 4 for SSE). A vector wider than the target's registers is split
// by the compiler, and its AVX2 code then spilled every accumulator to the stack (42% of a MiniLM
// rerank's time went to attention on an AVX2 host).
// (A typedef inside a class template: GCC drops vector_size on an alias template.)
template <int W>
struct VecOf {
  typedef float type __attribute__((vector_size(W * sizeof(float))));
  typedef int32_t bits __attribute__((vector_size(W * sizeof(int32_t))));
};
template <int W>
using Vec = typename VecOf<W>::type;

template <int W>
__attribute__((always_inline)) inline Vec<W> loadVec(const float* from) {
  Vec<W> v;
  std::memcpy(&v, from, sizeof v);
  return v;
}

template <int W>
__attribute__((always_inline)) inline void storeVec(float* to, const Vec<W>& v) {
  std::memcpy(to, &v, sizeof v);
}

template <int W>
__attribute__((always_inline)) inline Vec<W> splat(float value) {
  return Vec<W>{} + value;
}

template <int W>
__attribute__((always_inline)) inline float largestLane(const Vec<W>& v) {
  float largest = v[0];
  for (int lane = 1; lane < W; ++lane) largest = std::max(largest, v[lane]);
  return largest;
}

template <int W>
__attribute__((always_inline)) inline float laneSum(const Vec<W>& v) {
  float sum = 0.0f;
  for (int lane = 0; lane < W; ++lane) sum += v[lane];
  return sum;
}

// exp(x) for the softmax, a whole vector at a time: 2ⁿ·p(r) with n = round(x/ln2), r = x − n·ln2
// and a degree-6 polynomial (relative error about 2e-7). n is rounded by adding 1.5·2²³, which
// leaves it in the low mantissa bits; inputs below −87 give exactly 0, as expf would for masked keys.
template <int W>
__attribute__((always_inline)) inline Vec<W> softmaxExp(const Vec<W>& x) {
  using Bits = typename VecOf<W>::bits;
  const Vec<W> roundingShift = splat<W>(12582912.0f);
  Vec<W> clamped = x < splat<W>(-87.0f) ? splat<W>(-87.0f) : x;
  clamped = clamped > splat<W>(88.0f) ? splat<W>(88.0f) : clamped;
  const Vec<W> shifted = clamped * 1.44269504088896341f + roundingShift;
  const Vec<W> n = shifted - roundingShift;
  const Vec<W> r = clamped - n * 0.693145751953125f - n * 1.428606820309417232e-6f;
  Vec<W> p = splat<W>(1.0f / 720.0f);
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const Bits exponent = ((Bits)shifted - (Bits)roundingShift + 127) << 23;
  const Vec<W> result = p * (Vec<W>)exponent;
  return x < splat<W>(-87.0f) ? Vec<W>{} : result;
}

struct HeadTask {
  const float* qkv;      // the sentence's first row
  const float* bias;     // the sentence's key bias, [seq]
  float* context;        // the sentence's first output row ([queries, hidden] per sentence)
  int64_t seq;           // the sentence's real keys: its padding is never read
  int64_t queries;       // the first rows whose context is computed (its real rows, or 1 for [CLS] alone)
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
// bert-base widths); sums run in kLanes registers at once so the adds do not wait on each other,
// with the partial groups in loops of their own so the accumulators stay in registers.
// Compiled once per instruction set below.
template <int W>
__attribute__((always_inline)) inline void attendOneHead(const HeadTask& t) {
  using V = Vec<W>;
  constexpr int64_t kLanes = 4;  // independent accumulators
  const int64_t rowStride = 3 * t.hidden;
  const int64_t keys = t.paddedSeq;
  const int64_t headSize = t.headSize;
  const float* queryRows = t.qkv + t.headOffset;
  const float* keyRows = t.qkv + t.hidden + t.headOffset;
  const float* valueRows = t.qkv + 2 * t.hidden + t.headOffset;
  // Block padding: zero keys whose bias sends their weight to exactly 0 (no value is read for them).
  for (int64_t j = 0; j < keys; ++j) t.keyBias[j] = j < t.seq ? t.bias[j] : kLowest;
  for (int64_t d = 0; d < headSize; ++d) {
    for (int64_t j = t.seq; j < keys; ++j) t.keysTransposed[d * keys + j] = 0.0f;
  }
  for (int64_t j = 0; j < t.seq; ++j) {
    const float* key = keyRows + j * rowStride;
    for (int64_t d = 0; d < headSize; ++d) t.keysTransposed[d * keys + j] = key[d];
    std::memcpy(t.values + j * headSize, valueRows + j * rowStride, headSize * sizeof(float));
  }
  const int64_t wholeDims = headSize / W * W;
  const int64_t laneKeys = keys / (kLanes * W) * (kLanes * W);
  const int64_t laneDims = wholeDims / (kLanes * W) * (kLanes * W);
  const float* __restrict keysT = t.keysTransposed;
  const float* __restrict values = t.values;
  float* __restrict scores = t.scores;
  for (int64_t i = 0; i < t.queries; ++i) {
    const float* query = queryRows + i * rowStride;
    // Scores: kLanes vectors of keys at a time, then one.
    int64_t first = 0;
    for (; first < laneKeys; first += kLanes * W) {
      V sums[kLanes] = {};
      for (int64_t d = 0; d < headSize; ++d) {
        const float q = query[d] * t.scale;
        const float* column = keysT + d * keys + first;
        for (int64_t b = 0; b < kLanes; ++b) sums[b] += loadVec<W>(column + b * W) * q;
      }
      for (int64_t b = 0; b < kLanes; ++b) storeVec<W>(scores + first + b * W, sums[b] + loadVec<W>(t.keyBias + first + b * W));
    }
    for (; first < keys; first += W) {
      V sum = {};
      for (int64_t d = 0; d < headSize; ++d) sum += loadVec<W>(keysT + d * keys + first) * (query[d] * t.scale);
      storeVec<W>(scores + first, sum + loadVec<W>(t.keyBias + first));
    }
    V highestVec = splat<W>(kLowest);
    for (int64_t j = 0; j < keys; j += W) {
      const V v = loadVec<W>(scores + j);
      highestVec = v > highestVec ? v : highestVec;
    }
    const float highest = largestLane<W>(highestVec);
    V totals = {};
    for (int64_t j = 0; j < keys; j += W) {
      const V weights = softmaxExp<W>(loadVec<W>(scores + j) - highest);
      storeVec<W>(scores + j, weights);
      totals += weights;
    }
    const float normalizer = 1.0f / laneSum<W>(totals);
    float* __restrict out = t.context + i * t.hidden + t.headOffset;
    // The weighted sum of values: kLanes vectors of dimensions at a time (then one), two keys at a time.
    int64_t dim = 0;
    for (; dim < laneDims; dim += kLanes * W) {
      V even[kLanes] = {};
      V odd[kLanes] = {};
      int64_t j = 0;
      for (; j + 1 < t.seq; j += 2) {
        const float* row = values + j * headSize + dim;
        for (int64_t b = 0; b < kLanes; ++b) {
          even[b] += loadVec<W>(row + b * W) * scores[j];
          odd[b] += loadVec<W>(row + headSize + b * W) * scores[j + 1];
        }
      }
      if (j < t.seq) {
        for (int64_t b = 0; b < kLanes; ++b) even[b] += loadVec<W>(values + j * headSize + dim + b * W) * scores[j];
      }
      for (int64_t b = 0; b < kLanes; ++b) storeVec<W>(out + dim + b * W, (even[b] + odd[b]) * normalizer);
    }
    for (; dim < wholeDims; dim += W) {
      V sum = {};
      for (int64_t j = 0; j < t.seq; ++j) sum += loadVec<W>(values + j * headSize + dim) * scores[j];
      storeVec<W>(out + dim, sum * normalizer);
    }
    // Head sizes that are not whole vectors (24 with AVX-512, say): the rest one dimension at a time.
    for (int64_t k = wholeDims; k < headSize; ++k) {
      float sum = 0.0f;
      for (int64_t j = 0; j < t.seq; ++j) sum += scores[j] * values[j * headSize + k];
      out[k] = sum * normalizer;
    }
  }
}

// Chosen at run time by what the CPU has (engine/cpu_features.h). (GCC's target_clones picks by CPU model for `arch=`
// clones, and so fell back to SSE2 on AMD's AVX-512 chips.)
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,prefer-vector-width=512")))
void attendOneHeadAvx512(const HeadTask& t) { attendOneHead<16>(t); }
__attribute__((target("avx2,fma"))) void attendOneHeadAvx2(const HeadTask& t) { attendOneHead<8>(t); }
void attendOneHeadBaseline(const HeadTask& t) { attendOneHead<4>(t); }

using HeadKernel = void (*)(const HeadTask&);

HeadKernel headKernel() {
  static const HeadKernel kernel = [] {
    if (cpuFeatures().avx512) return &attendOneHeadAvx512;
    if (cpuFeatures().avx2) return &attendOneHeadAvx2;
    return &attendOneHeadBaseline;
  }();
  return kernel;
}

// A sentence's real keys: the engine pads sentences on the right, and gives padding keys float's
// lowest value as bias. Padding is skipped rather than weighted by 0, so that a padding row that
// overflowed (0 × NaN is NaN) never reaches the sentence's answer.
int64_t realKeyCount(const float* bias, int64_t seq) {
  int64_t real = seq;
  while (real > 1 && bias[real - 1] <= kLowest) --real;
  return real;
}

}  // namespace

const char* attentionKernelName() {
  const HeadKernel kernel = headKernel();
  if (kernel == &attendOneHeadAvx512) return "avx512";
  if (kernel == &attendOneHeadAvx2) return "avx2";
  return "portable";
}

torch::Tensor fusedSelfAttention(const torch::Tensor& qkv, const torch::Tensor& bias, int64_t heads, double scale, int64_t queryRows) {
  TORCH_CHECK(qkv.dim() == 3 && qkv.scalar_type() == torch::kFloat32 && qkv.size(2) % (3 * heads) == 0,
              "fusedSelfAttention: expected float32 qkv [batch, seq, 3 * hidden], got ", qkv.sizes());
  const int64_t batch = qkv.size(0);
  const int64_t seq = qkv.size(1);
  const int64_t hidden = qkv.size(2) / 3;
  const int64_t headSize = hidden / heads;
  auto input = qkv.contiguous();
  auto keyBias = bias.to(torch::kFloat32).contiguous();
  TORCH_CHECK(keyBias.numel() == batch * seq, "fusedSelfAttention: bias must hold batch * seq values, got ", bias.sizes());
  const int64_t queries = queryRows < 0 ? seq : std::min(queryRows, seq);
  auto context = torch::empty({batch, queries, hidden}, torch::kFloat32);
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
      const int64_t realKeys = realKeyCount(biasData + sentence * seq, seq);
      const int64_t realQueries = std::min(queries, realKeys);
      float* sentenceContext = contextData + sentence * queries * hidden;
      attend({qkvData + sentence * seq * 3 * hidden, biasData + sentence * seq, sentenceContext, realKeys, realQueries,
              (realKeys + kKeyBlock - 1) / kKeyBlock * kKeyBlock, hidden, headSize, head * headSize, static_cast<float>(scale),
              scratch.data(), scratch.data() + headSize * paddedSeq, scratch.data() + 2 * headSize * paddedSeq,
              scratch.data() + (2 * headSize + 1) * paddedSeq});
      // Padding rows get zeros: nothing reads them, and they stay finite for the layers after.
      for (int64_t row = realQueries; row < queries; ++row) {
        std::memset(sentenceContext + row * hidden + head * headSize, 0, headSize * sizeof(float));
      }
    }
  });
  return context;
}

}  // namespace bert_embed
