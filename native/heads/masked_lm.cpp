#include "heads/masked_lm.h"

#include <algorithm>

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

}  // namespace

torch::Tensor maskedLmScores(BertRunner& runner, const torch::Tensor& lastHidden, const HeadSpec& head) {
  const int64_t batch = lastHidden.size(0), seqLen = lastHidden.size(1), hidden = lastHidden.size(2);
  const int64_t width = maskedLmSlotWidth(head.topK);
  auto output = torch::zeros({batch * head.slots, width}, torch::kFloat32);
  std::vector<int64_t> tokenIndex, slotIndex, targets;
  for (int64_t slot = 0; slot < batch * head.slots; ++slot) {
    const int64_t position = head.positions[slot];
    if (position < 0) continue;
    tokenIndex.push_back((slot / head.slots) * seqLen + position);
    slotIndex.push_back(slot);
    targets.push_back(head.targets[slot]);
  }
  auto tokens = lastHidden.reshape({-1, hidden});
  const auto total = static_cast<int64_t>(tokenIndex.size());
  for (int64_t begin = 0; begin < total; begin += kRowsPerProjection) {
    const int64_t end = std::min(total, begin + kRowsPerProjection);
    auto slice = [&](const std::vector<int64_t>& values) {
      return longTensor(std::vector<int64_t>(values.begin() + begin, values.begin() + end));
    };
    auto rows = tokens.index_select(0, slice(tokenIndex).to(tokens.device()));
    output.index_copy_(0, slice(slotIndex), scoreRows(runner, rows, slice(targets), head.topK));
  }
  return output.view({batch, head.slots, width});
}

torch::Tensor spladeVectors(BertRunner& runner, const torch::Tensor& lastHidden, const std::vector<int64_t>& lengths) {
  std::vector<torch::Tensor> vectors;
  for (int64_t row = 0; row < lastHidden.size(0); ++row) {
    // One row at a time: its logits are [length, vocab], never [B, T, vocab].
    auto logits = runner.maskedLmLogits(lastHidden[row].narrow(0, 0, lengths[row])).to(torch::kFloat32);
    vectors.push_back(logits.relu().log1p().amax(0));
  }
  return torch::stack(vectors).to(torch::kCPU);
}

}  // namespace bert_embed
