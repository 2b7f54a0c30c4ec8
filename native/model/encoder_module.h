#pragma once
#include <torch/script.h>

#include "model/bert_config.h"
#include "model/safetensors_reader.h"

namespace bert_embed {

// Identifies a module built by this engine (and saved by `export`), as opposed to a traced one.
inline constexpr const char* kEngineFormatAttribute = "bert_embed_format";
// 2: the masked-LM head (cls.predictions) travels in the module. 3: forward takes first_token_only.
inline constexpr int64_t kEngineFormatVersion = 3;
// Whether the module holds BertForMaskedLM's head.
inline constexpr const char* kMaskedLmHeadAttribute = "has_mlm_head";
// Whether the module holds BertForSequenceClassification's head (pooler_* and classifier_* buffers);
// absent from modules exported before it, which then have none.
inline constexpr const char* kClassifierHeadAttribute = "has_classifier_head";
// Whether the module holds a classifier (classifier_* buffers), with or without the pooler: what
// BertForTokenClassification reads. Absent from modules exported before it (has_classifier_head then says).
inline constexpr const char* kClassifierAttribute = "has_classifier";
// The TorchScript class of prepacked quantized linear weights (int8_linears).
inline constexpr const char* kLinearPackedParamsClass = "__torch__.torch.classes.quantized.LinearPackedParamsBase";

// Builds the TorchScript BERT encoder from Hugging Face weights (float32, on the CPU),
// compiling the TorchScript source kept in native/model/bert_encoder.torchscript. Consumes
// `weights`: each layer's tensors are let go once stacked, so a load never holds two copies.
torch::jit::Module buildEncoderModule(const BertConfig& config, TensorMap weights);

}  // namespace bert_embed
