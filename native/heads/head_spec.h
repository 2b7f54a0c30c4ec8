#pragma once
// What a batch asks of the model after the encoder: the head it runs and that head's settings.
// A batch holds rows of one head only (the scheduler groups them so).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/pooling.h"

namespace bert_embed {

enum class HeadKind { Pooled, MaskedLm, Sparse, Classification };

HeadKind parseHeadKind(const std::string& name);

struct HeadSpec {
  HeadKind kind = HeadKind::Pooled;
  PoolingSpec pooling;  // Pooled
  // MaskedLm: each row scores `slots` positions; `positions` and `targets` are [rows × slots],
  // -1 marking an empty slot (position) or a slot with no id to score (target).
  int64_t slots = 0;
  int64_t topK = 0;
  std::vector<int64_t> positions;
  std::vector<int64_t> targets;
};

// Floats per row of a masked-LM answer slot: the target's log-probability and rank, then top-k
// (id, log-probability) pairs.
inline int64_t maskedLmSlotWidth(int64_t topK) { return 2 + 2 * topK; }

}  // namespace bert_embed
