#include "heads/heads.h"

#include <algorithm>

#include "common/job_error.h"
#include "heads/masked_lm.h"

namespace bert_embed {

HeadKind parseHeadKind(const std::string& name) {
  if (name == "pooled") return HeadKind::Pooled;
  if (name == "maskedLm") return HeadKind::MaskedLm;
  if (name == "sparse") return HeadKind::Sparse;
  if (name == "classification") return HeadKind::Classification;
  throw CodedError("ERR_INVALID_ARG", "unknown head " + name);
}

int64_t deepestLayerFor(const HeadSpec& head, const BertRunner& runner) {
  if (head.kind != HeadKind::Pooled) return runner.numLayers();
  int64_t deepest = 0;
  for (int64_t layer : head.pooling.layers) deepest = std::max(deepest, layer);
  return deepest;
}

bool readsFirstTokenOnly(const HeadSpec& head) {
  return head.kind == HeadKind::Classification || (head.kind == HeadKind::Pooled && head.pooling.strategy == PoolingStrategy::FirstToken);
}

torch::Tensor runHead(BertRunner& runner, const std::vector<torch::Tensor>& hiddenStates, const torch::Tensor& ids,
                      const torch::Tensor& mask, const std::vector<int64_t>& lengths, const HeadSpec& head) {
  if (head.kind == HeadKind::Pooled) return poolHiddenStates(hiddenStates, ids, mask, head.pooling).to(torch::kCPU);
  // The JS layer checks the head before it queues anything; these guard the native contract.
  if (head.kind == HeadKind::Classification) {
    if (!runner.hasClassifierHead()) throw CodedError("ERR_NO_CLASSIFIER_HEAD", "the model has no sequence-classification head");
    // BertForSequenceClassification reads the [CLS] row of the last hidden state (through the pooler).
    return runner.classifierLogits(hiddenStates.back().select(1, 0)).to(torch::kFloat32).to(torch::kCPU);
  }
  if (!runner.hasMaskedLmHead()) throw CodedError("ERR_NO_MLM_HEAD", "the model has no masked-LM head");
  const auto& lastHidden = hiddenStates.back();
  if (head.kind == HeadKind::MaskedLm) return maskedLmScores(runner, lastHidden, head);
  return spladeVectors(runner, lastHidden, lengths);
}

}  // namespace bert_embed
