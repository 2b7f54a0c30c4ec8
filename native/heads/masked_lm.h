#pragma once
#include <torch/torch.h>

#include "heads/head_spec.h"
#include "model/bert_runner.h"

namespace bert_embed {

// Log-probabilities, ranks and top-k at the positions `head` names, from the last hidden state
// [B, T, H]. The vocabulary projection runs only on the gathered positions, never on [B, T, vocab].
torch::Tensor maskedLmScores(BertRunner& runner, const torch::Tensor& lastHidden, const HeadSpec& head);

// SPLADE vectors [B, vocab]: for each row, the max over its real tokens of log(1 + relu(logits)).
torch::Tensor spladeVectors(BertRunner& runner, const torch::Tensor& lastHidden, const std::vector<int64_t>& lengths);

}  // namespace bert_embed
