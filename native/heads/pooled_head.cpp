// Sentence vectors: bert-as-service's pooling strategies over chosen layers (heads/pooling.h).
#include <algorithm>

#include "heads/head.h"
#include "heads/pooling.h"

namespace bert_embed {
namespace {

class PooledHead : public Head {
 public:
  explicit PooledHead(PoolingSpec spec) : spec_(std::move(spec)) {}
  int64_t deepestLayer(const BertRunner&) const override {
    int64_t deepest = 0;
    for (int64_t layer : spec_.layers) deepest = std::max(deepest, layer);
    return deepest;
  }
  bool readsFirstTokenOnly() const override { return spec_.strategy == PoolingStrategy::FirstToken; }
  torch::Tensor run(BertRunner&, const HeadInput& input) const override {
    return poolHiddenStates(input.hiddenStates, input.ids, input.mask, spec_).to(torch::kCPU);
  }

 private:
  PoolingSpec spec_;
};

std::unique_ptr<Head> makePooledHead(const HeadSettings& settings, int64_t, size_t) {
  PoolingSpec spec;
  spec.strategy = parsePoolingStrategy(settings.text("strategy"));
  spec.layers = settings.integers("layers");
  spec.maskClsSep = settings.flag("maskClsSep");
  spec.normalize = settings.flag("normalize");
  spec.clsId = settings.integer("clsId");
  spec.sepId = settings.integer("sepId");
  spec.outputSeqLen = settings.integer("outputSeqLen");
  return std::make_unique<PooledHead>(std::move(spec));
}

bool always(const BertRunner&) { return true; }

}  // namespace

extern const HeadEntry kPooledHead;
const HeadEntry kPooledHead{"pooled", always, "ERR_INVALID_ARG", makePooledHead};

}  // namespace bert_embed
