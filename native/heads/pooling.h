#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace bert_embed {

enum class PoolingStrategy { None, ReduceMean, ReduceMax, ReduceMeanMax, FirstToken, LastToken };

PoolingStrategy parsePoolingStrategy(const std::string& name);

struct PoolingSpec {
  PoolingStrategy strategy = PoolingStrategy::ReduceMean;
  std::vector<int64_t> layers;  // resolved: 0 = embedding output, i = output of layer i
  bool maskClsSep = false;
  bool normalize = false;
  int64_t clsId = 101;
  int64_t sepId = 102;
  int64_t outputSeqLen = 0;  // NONE pads token vectors to this many rows
};

// Pools the hidden states of a batch into float32 vectors on their device:
// [B, layers × H] (× 2 for mean-max), or [B, outputSeqLen, layers × H] for NONE.
// attentionMask is [B, T] bool; inputIds [B, T] on the same device.
torch::Tensor poolHiddenStates(const std::vector<torch::Tensor>& hiddenStates, const torch::Tensor& inputIds,
                               const torch::Tensor& attentionMask, const PoolingSpec& spec);

}  // namespace bert_embed
