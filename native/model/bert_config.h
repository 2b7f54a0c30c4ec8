#pragma once
#include <cstdint>
#include <string>

namespace bert_embed {

// The architecture numbers of a Hugging Face BERT config.json, validated by the JS layer.
struct BertConfig {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t intermediateSize = 0;
  int64_t maxPositions = 0;
  int64_t typeVocabSize = 0;
  double layerNormEps = 1e-12;
  std::string hiddenAct = "gelu";
};

}  // namespace bert_embed
