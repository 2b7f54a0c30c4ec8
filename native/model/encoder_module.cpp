#include "model/encoder_module.h"

#include <cmath>
#include <functional>

#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/custom_class.h>

#include "bert_encoder_source.h"
#include "common/job_error.h"
#include "cpu/onednn_linear.h"

namespace bert_embed {
namespace {

// Module::define's default resolver only knows `torch.` (aten ops); the encoder also calls
// `quantized.linear_dynamic` and this addon's own CPU kernels (`bert_embed.*`, native/cpu).
struct EncoderSourceResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction&,
                                                         const torch::jit::SourceRange&) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "quantized") return std::make_shared<torch::jit::BuiltinModule>("quantized");
    if (name == "bert_embed") return std::make_shared<torch::jit::BuiltinModule>("bert_embed");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override { return nullptr; }
};

const torch::Tensor& weight(const TensorMap& weights, const std::string& name) {
  auto found = weights.find(name);
  if (found == weights.end()) {
    throw CodedError("ERR_MODEL_FORMAT", "model.safetensors has no tensor named " + name);
  }
  return found->second;
}

// The named tensor, removed from `weights` so its memory goes once the caller is done with it.
torch::Tensor take(TensorMap& weights, const std::string& name) {
  torch::Tensor tensor = weight(weights, name);
  weights.erase(name);
  return tensor;
}

std::string layerName(int64_t layer, const std::string& suffix) {
  return "encoder.layer." + std::to_string(layer) + "." + suffix;
}

// One tensor holding every layer's copy of a weight, so TorchScript can index it by layer.
torch::Tensor stackLayers(const BertConfig& config,
                          const std::function<torch::Tensor(int64_t)>& layerTensor) {
  std::vector<torch::Tensor> perLayer;
  for (int64_t layer = 0; layer < config.numLayers; ++layer) perLayer.push_back(layerTensor(layer));
  return torch::stack(perLayer).contiguous();
}

torch::Tensor stackNamed(const BertConfig& config, TensorMap& weights, const std::string& suffix) {
  return stackLayers(config, [&](int64_t layer) { return take(weights, layerName(layer, suffix)); });
}

torch::Tensor stackFusedQkv(const BertConfig& config, TensorMap& weights, const std::string& kind) {
  return stackLayers(config, [&](int64_t layer) {
    return torch::cat({take(weights, layerName(layer, "attention.self.query." + kind)),
                       take(weights, layerName(layer, "attention.self.key." + kind)),
                       take(weights, layerName(layer, "attention.self.value." + kind))});
  });
}

// BertForMaskedLM's head (cls.predictions.*), when the checkpoint has one; empty tensors otherwise,
// so that the module's source compiles either way.
void registerMaskedLmHead(torch::jit::Module& module, TensorMap& weights) {
  const bool present = weights.count("cls.predictions.transform.dense.weight") > 0;
  auto headTensor = [&](const char* name) { return present ? take(weights, name) : torch::empty({0}); };
  module.register_buffer("mlm_transform_weight", headTensor("cls.predictions.transform.dense.weight"));
  module.register_buffer("mlm_transform_bias", headTensor("cls.predictions.transform.dense.bias"));
  module.register_buffer("mlm_ln_weight", headTensor("cls.predictions.transform.LayerNorm.weight"));
  module.register_buffer("mlm_ln_bias", headTensor("cls.predictions.transform.LayerNorm.bias"));
  // The decoder is tied to the word embeddings (and its bias to cls.predictions.bias) unless stored.
  const bool ownDecoder = weights.count("cls.predictions.decoder.weight") > 0;
  module.register_buffer("mlm_decoder_weight", ownDecoder ? take(weights, "cls.predictions.decoder.weight") : torch::empty({0}));
  const bool ownBias = weights.count("cls.predictions.decoder.bias") > 0;
  module.register_buffer("mlm_decoder_bias", headTensor(ownBias ? "cls.predictions.decoder.bias" : "cls.predictions.bias"));
  module.register_attribute(kMaskedLmHeadAttribute, c10::BoolType::get(), present);
  module.register_attribute("mlm_decoder_tied", c10::BoolType::get(), !ownDecoder);
  // Chosen per load, like use_mkldnn.
  module.register_attribute("head_mkldnn", c10::BoolType::get(), false);
}

// The classifier (classifier.*) and the pooler (pooler.dense.*), each when the checkpoint has it (the
// TypeScript index selects them by the model's architecture); empty tensors otherwise.
// BertForSequenceClassification reads both, BertForTokenClassification the classifier alone.
void registerClassifierHeads(torch::jit::Module& module, TensorMap& weights) {
  const bool classifier = weights.count("classifier.weight") > 0;
  const bool pooler = weights.count("pooler.dense.weight") > 0;
  auto headTensor = [&](bool present, const char* name) { return present ? take(weights, name) : torch::empty({0}); };
  module.register_buffer("pooler_weight", headTensor(pooler, "pooler.dense.weight"));
  module.register_buffer("pooler_bias", headTensor(pooler, "pooler.dense.bias"));
  module.register_buffer("classifier_weight", headTensor(classifier, "classifier.weight"));
  module.register_buffer("classifier_bias", headTensor(classifier, "classifier.bias"));
  module.register_attribute(kClassifierHeadAttribute, c10::BoolType::get(), classifier && pooler);
  module.register_attribute(kClassifierAttribute, c10::BoolType::get(), classifier);
}

}  // namespace

torch::jit::Module buildEncoderModule(const BertConfig& config, TensorMap weights) {
  torch::jit::Module module("BertEmbedEncoder");
  auto buffer = [&](const char* name, const torch::Tensor& value) { module.register_buffer(name, value); };

  buffer("word_embeddings", weight(weights, "embeddings.word_embeddings.weight"));
  buffer("position_embeddings", weight(weights, "embeddings.position_embeddings.weight"));
  buffer("token_type_embeddings", weight(weights, "embeddings.token_type_embeddings.weight"));
  buffer("embeddings_ln_weight", weight(weights, "embeddings.LayerNorm.weight"));
  buffer("embeddings_ln_bias", weight(weights, "embeddings.LayerNorm.bias"));
  buffer("qkv_weight", stackFusedQkv(config, weights, "weight"));
  buffer("qkv_bias", stackFusedQkv(config, weights, "bias"));
  buffer("attention_output_weight", stackNamed(config, weights, "attention.output.dense.weight"));
  buffer("attention_output_bias", stackNamed(config, weights, "attention.output.dense.bias"));
  buffer("attention_ln_weight", stackNamed(config, weights, "attention.output.LayerNorm.weight"));
  buffer("attention_ln_bias", stackNamed(config, weights, "attention.output.LayerNorm.bias"));
  buffer("intermediate_weight", stackNamed(config, weights, "intermediate.dense.weight"));
  buffer("intermediate_bias", stackNamed(config, weights, "intermediate.dense.bias"));
  buffer("output_weight", stackNamed(config, weights, "output.dense.weight"));
  buffer("output_bias", stackNamed(config, weights, "output.dense.bias"));
  buffer("output_ln_weight", stackNamed(config, weights, "output.LayerNorm.weight"));
  buffer("output_ln_bias", stackNamed(config, weights, "output.LayerNorm.bias"));

  const int64_t headSize = config.hiddenSize / config.numHeads;
  module.register_attribute(kEngineFormatAttribute, c10::IntType::get(), kEngineFormatVersion);
  module.register_attribute("num_hidden_layers", c10::IntType::get(), config.numLayers);
  module.register_attribute("hidden_size", c10::IntType::get(), config.hiddenSize);
  module.register_attribute("num_heads", c10::IntType::get(), config.numHeads);
  module.register_attribute("head_size", c10::IntType::get(), headSize);
  module.register_attribute("attention_scale", c10::FloatType::get(),
                            1.0 / std::sqrt(static_cast<double>(headSize)));
  module.register_attribute("layer_norm_eps", c10::FloatType::get(), config.layerNormEps);
  module.register_attribute("hidden_act", c10::StringType::get(), config.hiddenAct);
  // Chosen per load for the device and dtype (BertRunner), so an exported model.pt stays portable.
  module.register_attribute("use_mkldnn", c10::BoolType::get(), false);
  auto packedType = torch::getCustomClass(kLinearPackedParamsClass);
  module.register_attribute("use_int8", c10::BoolType::get(), false);
  module.register_attribute("int8_reduce_range", c10::BoolType::get(), false);
  module.register_attribute("int8_linears", c10::ListType::create(packedType), c10::impl::GenericList(packedType));
  auto cpuLinearType = torch::getCustomClass(kOneDnnLinearClass);
  module.register_attribute("use_cpu_kernels", c10::BoolType::get(), false);
  module.register_attribute("cpu_linears", c10::ListType::create(cpuLinearType), c10::impl::GenericList(cpuLinearType));
  registerMaskedLmHead(module, weights);
  registerClassifierHeads(module, weights);
  module.define(kBertEncoderSource, std::make_shared<EncoderSourceResolver>());
  module.eval();
  return module;
}

}  // namespace bert_embed
