// BertForSequenceClassification: tanh(pooler) on [CLS], then the classifier; [B, num_labels] logits.
#include "heads/head.h"

namespace bert_embed {
namespace {

class SequenceClassifierHead : public Head {
 public:
  bool readsFirstTokenOnly() const override { return true; }
  torch::Tensor run(BertRunner& runner, const HeadInput& input) const override {
    return runner.sequenceClassifierLogits(input.hiddenStates.back().select(1, 0)).to(torch::kFloat32).to(torch::kCPU);
  }
};

std::unique_ptr<Head> makeSequenceClassifierHead(const HeadSettings&, int64_t, size_t) { return std::make_unique<SequenceClassifierHead>(); }

bool hasSequenceClassifier(const BertRunner& runner) { return runner.hasSequenceClassifierHead(); }

}  // namespace

extern const HeadEntry kSequenceClassifierHead;
const HeadEntry kSequenceClassifierHead{"classification", hasSequenceClassifier, "ERR_NO_CLASSIFIER_HEAD", makeSequenceClassifierHead};

}  // namespace bert_embed
