// BertForMaskedLM's head at chosen positions: pseudo-log-likelihood scoring and fill-mask.
#include <algorithm>

#include "common/job_error.h"
#include "heads/head.h"

namespace bert_embed {
namespace {

// Gathered rows per vocabulary projection: bounds the [rows, vocab] logits held at once.
constexpr int64_t kRowsPerProjection = 256;

torch::Tensor longTensor(std::vector<int64_t> values) {
  const auto count = static_cast<int64_t>(values.size());
  return torch::from_blob(values.data(), {count}, torch::kLong).clone();
}

// [rows, slot width] answers for gathered hidden states and their target ids (-1: none).
torch::Tensor scoreRows(BertRunner& runner, const torch::Tensor& rows, const torch::Tensor& targets, int64_t topK) {
  // Log-softmax and ranks in float32 whatever the model's dtype.
  auto logits = runner.maskedLmLogits(rows).to(torch::kFloat32);
  auto logProbs = logits.log_softmax(-1);
  auto hasTarget = targets.ge(0).to(logits.device());
  auto targetColumn = targets.clamp_min(0).to(logits.device()).unsqueeze(1);
  auto targetLogit = logits.gather(1, targetColumn);
  auto rank = logits.gt(targetLogit).sum(1).to(torch::kFloat32) + 1;
  auto targetLogProb = logProbs.gather(1, targetColumn).squeeze(1);
  std::vector<torch::Tensor> columns{targetLogProb.masked_fill(hasTarget.logical_not(), 0).unsqueeze(1),
                                     rank.masked_fill(hasTarget.logical_not(), 0).unsqueeze(1)};
  if (topK > 0) {
    auto top = logProbs.topk(topK, -1);
    auto ids = std::get<1>(top).to(torch::kFloat32);
    // Interleaved (id, log-probability) pairs.
    columns.push_back(torch::stack({ids, std::get<0>(top)}, 2).reshape({rows.size(0), 2 * topK}));
  }
  return torch::cat(columns, 1).to(torch::kCPU);
}

// Floats per scored slot: the target's log-probability and rank, then top-k (id, log-probability) pairs.
int64_t slotWidth(int64_t topK) { return 2 + 2 * topK; }

// Log-probabilities, ranks and top-k at chosen positions of the last hidden state. Each row's payload
// is its `slots` positions then their `slots` target ids, -1 marking an empty slot or no target.
// The vocabulary projection runs only on the gathered positions, never on [B, T, vocab].
class MaskedLmHead : public Head {
 public:
  MaskedLmHead(int64_t slots, int64_t topK) : slots_(slots), topK_(topK) {}

  torch::Tensor run(BertRunner& runner, const HeadInput& input) const override {
    const auto& lastHidden = input.hiddenStates.back();
    const int64_t batch = lastHidden.size(0), seqLen = lastHidden.size(1), hidden = lastHidden.size(2);
    const int64_t width = slotWidth(topK_);
    auto output = torch::zeros({batch * slots_, width}, torch::kFloat32);
    std::vector<int64_t> tokenIndex, slotIndex, targets;
    for (int64_t slot = 0; slot < batch * slots_; ++slot) {
      const int64_t row = slot / slots_, column = slot % slots_;
      const int64_t position = input.payload[row * 2 * slots_ + column];
      if (position < 0) continue;
      tokenIndex.push_back(row * seqLen + position);
      slotIndex.push_back(slot);
      targets.push_back(input.payload[row * 2 * slots_ + slots_ + column]);
    }
    auto tokens = lastHidden.reshape({-1, hidden});
    const auto total = static_cast<int64_t>(tokenIndex.size());
    for (int64_t begin = 0; begin < total; begin += kRowsPerProjection) {
      const int64_t end = std::min(total, begin + kRowsPerProjection);
      auto slice = [&](const std::vector<int64_t>& values) {
        return longTensor(std::vector<int64_t>(values.begin() + begin, values.begin() + end));
      };
      auto rows = tokens.index_select(0, slice(tokenIndex).to(tokens.device()));
      output.index_copy_(0, slice(slotIndex), scoreRows(runner, rows, slice(targets), topK_));
    }
    return output.view({batch, slots_, width});
  }

 private:
  int64_t slots_, topK_;
};

std::unique_ptr<Head> makeMaskedLmHead(const HeadSettings& settings, int64_t batchSize, size_t payloadLength) {
  const int64_t slots = settings.integer("slots");
  if (payloadLength != static_cast<size_t>(batchSize * 2 * slots)) throw CodedError("ERR_INVALID_ARG", "masked-LM payload does not match batchSize × 2 × slots");
  return std::make_unique<MaskedLmHead>(slots, settings.integer("topK"));
}

bool hasMaskedLm(const BertRunner& runner) { return runner.hasMaskedLmHead(); }

}  // namespace

extern const HeadEntry kMaskedLmHead;
const HeadEntry kMaskedLmHead{"maskedLm", hasMaskedLm, "ERR_NO_MLM_HEAD", makeMaskedLmHead};

}  // namespace bert_embed
