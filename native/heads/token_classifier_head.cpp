// BertForTokenClassification: the classifier on every token's last hidden state; [B, outputSeqLen, num_labels]
// logits, rows past a sentence's tokens zero (a fixed width per row, whatever the batch's padded length).
#include "heads/head.h"

namespace bert_embed {
namespace {

class TokenClassifierHead : public Head {
 public:
  explicit TokenClassifierHead(int64_t outputSeqLen) : outputSeqLen_(outputSeqLen) {}
  torch::Tensor run(BertRunner& runner, const HeadInput& input) const override {
    auto logits = runner.tokenClassifierLogits(input.hiddenStates.back()).to(torch::kFloat32).to(torch::kCPU);
    const int64_t seqLen = logits.size(1);
    if (seqLen >= outputSeqLen_) return logits.narrow(1, 0, outputSeqLen_);
    auto padded = torch::zeros({logits.size(0), outputSeqLen_, logits.size(2)}, logits.options());
    padded.narrow(1, 0, seqLen).copy_(logits);
    return padded;
  }

 private:
  int64_t outputSeqLen_;
};

std::unique_ptr<Head> makeTokenClassifierHead(const HeadSettings& settings, int64_t, size_t) {
  return std::make_unique<TokenClassifierHead>(settings.integer("outputSeqLen"));
}

bool hasTokenClassifier(const BertRunner& runner) { return runner.hasTokenClassifierHead(); }

}  // namespace

extern const HeadEntry kTokenClassifierHead;
const HeadEntry kTokenClassifierHead{"tokenClassification", hasTokenClassifier, "ERR_NO_TOKEN_CLASSIFIER_HEAD", makeTokenClassifierHead};

}  // namespace bert_embed
