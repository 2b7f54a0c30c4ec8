#pragma once
// A head: what runs on the encoder's hidden states for one task. Each head is one file with one
// entry in heads/registry.cpp; the engine runs whichever head a batch names and knows none of them.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/bert_runner.h"

namespace bert_embed {

// A head's settings as the TypeScript layer sent them (the batch's `head` object), read by name.
// That layer has validated them; a missing or mistyped one is its bug.
class HeadSettings {
 public:
  virtual ~HeadSettings() = default;
  virtual int64_t integer(const char* name) const = 0;
  virtual bool flag(const char* name) const = 0;
  virtual std::string text(const char* name) const = 0;
  virtual std::vector<int64_t> integers(const char* name) const = 0;
};

// One batch as a head sees it; tensors are on the model's device.
struct HeadInput {
  const std::vector<torch::Tensor>& hiddenStates;  // [embedding output, layer 1, …], each [B, T, H]
  const torch::Tensor& ids;                        // [B, T]
  const torch::Tensor& mask;                       // [B, T] bool
  const std::vector<int64_t>& lengths;             // each row's real token count
  const std::vector<int64_t>& payload;             // the rows' own integers, [B × the head's payloadWidth]
};

class Head {
 public:
  virtual ~Head() = default;
  // The deepest hidden state the head reads.
  virtual int64_t deepestLayer(const BertRunner& runner) const { return runner.numLayers(); }
  // Whether the head reads nothing of that deepest state but its [CLS] row: the encoder then computes
  // the last layer for [CLS] alone.
  virtual bool readsFirstTokenOnly() const { return false; }
  // The batch's answer, float32 on the CPU, rows first.
  virtual torch::Tensor run(BertRunner& runner, const HeadInput& input) const = 0;
};

struct HeadEntry {
  const char* kind;
  // Whether a loaded model holds the weights the head needs.
  bool (*available)(const BertRunner& runner);
  // The error code for a model without them (the TypeScript layer refuses first; this guards the contract).
  const char* missingCode;
  // Reads the head's settings; `payloadLength` is the batch's payload size, for the head to check.
  std::unique_ptr<Head> (*make)(const HeadSettings& settings, int64_t batchSize, size_t payloadLength);
};

}  // namespace bert_embed
