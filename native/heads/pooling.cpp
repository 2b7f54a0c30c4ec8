#include "heads/pooling.h"

#include <limits>

#include "common/job_error.h"

namespace bert_embed {
namespace {

// Rows left out are replaced by zeros, never multiplied by 0: a padding row that overflowed would
// otherwise turn the sentence's vector to NaN (0 × NaN).
torch::Tensor onlyPooled(const torch::Tensor& hidden, const torch::Tensor& pooled) {
  return hidden.masked_fill(pooled.logical_not().unsqueeze(-1), 0.0);
}

torch::Tensor maskedMean(const torch::Tensor& hidden, const torch::Tensor& pooled) {
  // A sentence with no pooled token (only [CLS]/[SEP] under maskClsSep) averages to zeros.
  return onlyPooled(hidden, pooled).sum(1) / pooled.sum(1, true).to(hidden.dtype()).clamp_min(1.0);
}

torch::Tensor maskedMax(const torch::Tensor& hidden, const torch::Tensor& pooled) {
  auto maxima = hidden.masked_fill(pooled.logical_not().unsqueeze(-1), -std::numeric_limits<float>::infinity()).amax(1);
  auto empty = pooled.any(1).logical_not().unsqueeze(-1);
  return maxima.masked_fill(empty, 0.0);
}

torch::Tensor lastRealToken(const torch::Tensor& hidden, const torch::Tensor& attentionMask) {
  auto lastIndex = (attentionMask.sum(1) - 1).clamp_min(0);
  auto index = lastIndex.view({-1, 1, 1}).expand({hidden.size(0), 1, hidden.size(2)});
  return hidden.gather(1, index).squeeze(1);
}

torch::Tensor poolLayer(const torch::Tensor& hidden, const torch::Tensor& attentionMask,
                        const torch::Tensor& pooled, const PoolingSpec& spec) {
  switch (spec.strategy) {
    case PoolingStrategy::ReduceMean:
      return maskedMean(hidden, pooled);
    case PoolingStrategy::ReduceMax:
      return maskedMax(hidden, pooled);
    case PoolingStrategy::ReduceMeanMax:
      return torch::cat({maskedMean(hidden, pooled), maskedMax(hidden, pooled)}, -1);
    case PoolingStrategy::FirstToken:
      return hidden.select(1, 0);
    case PoolingStrategy::LastToken:
      return lastRealToken(hidden, attentionMask);
    case PoolingStrategy::None:
      return onlyPooled(hidden, pooled);
  }
  throw CodedError("ERR_INVALID_ARG", "unknown pooling strategy");
}

}  // namespace

PoolingStrategy parsePoolingStrategy(const std::string& name) {
  if (name == "NONE") return PoolingStrategy::None;
  if (name == "REDUCE_MEAN") return PoolingStrategy::ReduceMean;
  if (name == "REDUCE_MAX") return PoolingStrategy::ReduceMax;
  if (name == "REDUCE_MEAN_MAX") return PoolingStrategy::ReduceMeanMax;
  if (name == "CLS_TOKEN" || name == "FIRST_TOKEN") return PoolingStrategy::FirstToken;
  if (name == "SEP_TOKEN" || name == "LAST_TOKEN") return PoolingStrategy::LastToken;
  throw CodedError("ERR_INVALID_ARG", "unknown pooling strategy " + name);
}

torch::Tensor poolHiddenStates(const std::vector<torch::Tensor>& hiddenStates, const torch::Tensor& inputIds,
                               const torch::Tensor& attentionMask, const PoolingSpec& spec) {
  auto pooled = attentionMask;
  if (spec.maskClsSep) pooled = pooled & inputIds.ne(spec.clsId) & inputIds.ne(spec.sepId);

  std::vector<torch::Tensor> parts;
  for (int64_t layer : spec.layers) {
    if (layer < 0 || layer >= static_cast<int64_t>(hiddenStates.size())) {
      throw CodedError("ERR_INVALID_ARG", "layer " + std::to_string(layer) + " is outside the model's " +
                                              std::to_string(hiddenStates.size()) + " hidden states");
    }
    parts.push_back(poolLayer(hiddenStates[layer].to(torch::kFloat32), attentionMask, pooled, spec));
  }
  if (spec.strategy == PoolingStrategy::ReduceMeanMax && parts.size() > 1) {
    // bert-as-service joins the layers first, then pools: every layer's mean, then every layer's max.
    std::vector<torch::Tensor> means, maxes;
    for (const auto& part : parts) {
      auto halves = part.chunk(2, -1);
      means.push_back(halves[0]);
      maxes.push_back(halves[1]);
    }
    means.insert(means.end(), maxes.begin(), maxes.end());
    parts = std::move(means);
  }
  auto vectors = torch::cat(parts, -1);
  if (spec.normalize) vectors = vectors / vectors.norm(2, -1, true).clamp_min(1e-12);
  if (spec.strategy == PoolingStrategy::None && vectors.size(1) < spec.outputSeqLen) {
    vectors = torch::constant_pad_nd(vectors, {0, 0, 0, spec.outputSeqLen - vectors.size(1)});
  }
  return vectors.contiguous();
}

}  // namespace bert_embed
