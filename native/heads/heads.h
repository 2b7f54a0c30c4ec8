#pragma once
// The heads that run on the encoder's hidden states, one entry point for all of them.
#include <torch/torch.h>

#include <vector>

#include "heads/head_spec.h"
#include "model/bert_runner.h"

namespace bert_embed {

// The deepest hidden state `head` reads (hiddenStates' deepestLayer).
int64_t deepestLayerFor(const HeadSpec& head, const BertRunner& runner);

// Whether `head` reads nothing of that deepest hidden state but its first ([CLS]) row: the
// classification head, and CLS_TOKEN pooling. The encoder then computes that layer for [CLS] alone.
bool readsFirstTokenOnly(const HeadSpec& head);

// Runs `head` on a batch's hidden states ([embedding output, layer 1, …], each [B, T, H]) and
// returns float32 on the CPU: pooled [B, width] (or [B, T', width] for NONE), masked LM
// [B, slots, maskedLmSlotWidth(topK)], sparse [B, vocab], classification logits [B, num_labels].
// ids and mask are [B, T] on the model's device; lengths are the rows' real token counts.
torch::Tensor runHead(BertRunner& runner, const std::vector<torch::Tensor>& hiddenStates, const torch::Tensor& ids,
                      const torch::Tensor& mask, const std::vector<int64_t>& lengths, const HeadSpec& head);

}  // namespace bert_embed
