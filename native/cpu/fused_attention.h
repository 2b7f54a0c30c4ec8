#pragma once
#include <torch/script.h>

namespace bert_embed {

// Multi-head self-attention over a fused query/key/value projection, in one pass per
// (sentence, head) on the CPU: softmax(q·kᵀ·scale + bias)·v, written straight into the context
// layout [batch, seq, hidden]. Replaces the permutes, the batched products (which libtorch runs as
// one tiny BLAS call per head) and the softmax of the plain TorchScript path.
//   qkv  [batch, seq, 3 * hidden]: queries, then keys, then values, each head `hidden / heads` wide
//   bias [batch, 1, 1, seq] (or any shape with batch * seq elements): added to every query's scores;
//     a sentence's trailing keys whose bias is float's lowest value are its padding, which is
//     skipped, not weighted by 0, and whose query rows get a zero context
//   queryRows: the context of the first queryRows positions only ([batch, queryRows, hidden]; -1 for
//     all), for a last layer whose head reads [CLS] alone
torch::Tensor fusedSelfAttention(const torch::Tensor& qkv, const torch::Tensor& bias, int64_t heads, double scale,
                                 int64_t queryRows);

// The attention kernel's instruction set on this CPU: "avx512", "avx2" or "portable".
const char* attentionKernelName();

}  // namespace bert_embed
