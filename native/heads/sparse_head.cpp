// SPLADE vectors from the masked-LM head, as text-embeddings-inference computes them.
#include "heads/head.h"

namespace bert_embed {
namespace {

class SparseHead : public Head {
 public:
  // [B, vocab]: for each row, the max over its real tokens of log(1 + relu(logits)).
  torch::Tensor run(BertRunner& runner, const HeadInput& input) const override {
    const auto& lastHidden = input.hiddenStates.back();
    std::vector<torch::Tensor> vectors;
    for (int64_t row = 0; row < lastHidden.size(0); ++row) {
      // One row at a time: its logits are [length, vocab], never [B, T, vocab].
      auto logits = runner.maskedLmLogits(lastHidden[row].narrow(0, 0, input.lengths[row])).to(torch::kFloat32);
      vectors.push_back(logits.relu().log1p().amax(0));
    }
    return torch::stack(vectors).to(torch::kCPU);
  }
};

std::unique_ptr<Head> makeSparseHead(const HeadSettings&, int64_t, size_t) { return std::make_unique<SparseHead>(); }

bool hasMaskedLm(const BertRunner& runner) { return runner.hasMaskedLmHead(); }

}  // namespace

extern const HeadEntry kSparseHead;
const HeadEntry kSparseHead{"sparse", hasMaskedLm, "ERR_NO_MLM_HEAD", makeSparseHead};

}  // namespace bert_embed
