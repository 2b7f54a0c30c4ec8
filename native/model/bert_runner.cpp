#include "model/bert_runner.h"

#include <cstdlib>
#include <limits>
#include <string>

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>

#include "common/job_error.h"
#include "cpu/onednn_linear.h"
#include "model/encoder_module.h"
#include "model/finite_check.h"

namespace bert_embed {
namespace {

std::vector<torch::Tensor> tensorsOf(const c10::IValue& value) {
  std::vector<torch::Tensor> tensors;
  if (value.isTuple()) {
    for (const auto& element : value.toTupleRef().elements()) tensors.push_back(element.toTensor());
  } else if (value.isTensorList()) {
    for (const auto& tensor : value.toTensorList()) tensors.push_back(tensor);
  } else if (value.isList()) {
    for (const auto& element : value.toList()) tensors.push_back(element.get().toTensor());
  } else {
    throw CodedError("ERR_MODEL_FORMAT", "the TorchScript model's hidden_states are not a tuple or list");
  }
  return tensors;
}

// Switches kept for comparisons (BENCHMARKS.md): NAME=0 turns a CPU optimization off.
bool envOff(const char* name) {
  const char* setting = std::getenv(name);
  return setting && std::string(setting) == "0";
}

// The stacked weight attributes of the four projections, in the order of `project`'s kinds.
constexpr const char* kLinearKinds[] = {"qkv", "attention_output", "intermediate", "output"};

}  // namespace

bool oneDnnLinearEnabled() { return at::hasMKLDNN() && !envOff("BERT_EMBED_MKLDNN"); }

bool oneDnnBf16LinearEnabled() {
  return oneDnnLinearAvailable() && oneDnnLinearEnabled() && !envOff("BERT_EMBED_CPU_KERNELS") && oneDnnBf16LinearSupported();
}

BertRunner::BertRunner(torch::jit::Module module, bool traced, torch::Device device, torch::Dtype dtype)
    : module_(std::move(module)), traced_(traced), device_(device), dtype_(torch::kFloat32) {
  module_.eval();
  module_.to(device_);
  useDtype(dtype);
}

void BertRunner::useDtype(torch::Dtype dtype) {
  dtype_ = dtype;
  // Module::to(dtype) would also convert integer buffers (a traced model's position_ids), so only
  // floating-point weights change dtype.
  if (dtype_ != torch::kFloat32) {
    for (auto tensor : module_.parameters()) {
      if (tensor.is_floating_point()) tensor.set_data(tensor.to(dtype_));
    }
    for (auto tensor : module_.buffers()) {
      if (tensor.is_floating_point()) tensor.set_data(tensor.to(dtype_));
    }
  }
  const bool mkldnn = device_.is_cpu() && dtype_ == torch::kFloat32 && oneDnnLinearEnabled();
  if (!traced_ && module_.hasattr("use_mkldnn")) module_.setattr("use_mkldnn", mkldnn);
  if (!traced_ && module_.hasattr("head_mkldnn")) module_.setattr("head_mkldnn", mkldnn);
}

void BertRunner::useCpuBFloat16() {
  TORCH_CHECK(device_.is_cpu() && dtype_ == torch::kFloat32 && !cpuLinearPrecision_, "useCpuBFloat16: expected a float32 runner on the CPU");
  if (oneDnnBf16LinearEnabled() && packCpuLinearLayers(LinearPrecision::BFloat16)) return;
  useDtype(torch::kBFloat16);
}

bool BertRunner::hasMaskedLmHead() const {
  return !traced_ && module_.hasattr(kMaskedLmHeadAttribute) && module_.attr(kMaskedLmHeadAttribute).toBool();
}

torch::Tensor BertRunner::maskedLmLogits(const torch::Tensor& rows) {
  if (cpuLinearPrecision_ && !packedHead_) packMaskedLmHead();
  if (!packedHead_) return module_.run_method("masked_lm_logits", rows).toTensor();
  auto x = packedHead_->transform->forward(rows.contiguous());
  const int64_t hidden = module_.attr("hidden_size").toInt();
  x = torch::layer_norm(x, {hidden}, module_.attr("mlm_ln_weight").toTensor(), module_.attr("mlm_ln_bias").toTensor(),
                        module_.attr("layer_norm_eps").toDouble());
  return packedHead_->decoder->forward(x);
}

bool BertRunner::hasSequenceClassifierHead() const {
  return !traced_ && module_.hasattr(kClassifierHeadAttribute) && module_.attr(kClassifierHeadAttribute).toBool();
}

torch::Tensor BertRunner::sequenceClassifierLogits(const torch::Tensor& clsRows) {
  // Two small products per batch: plain torch ops, in the dtype the head's weights were given.
  const auto poolerWeight = module_.attr("pooler_weight").toTensor();
  auto pooled = torch::linear(clsRows.to(poolerWeight.scalar_type()), poolerWeight, module_.attr("pooler_bias").toTensor()).tanh();
  return torch::linear(pooled, module_.attr("classifier_weight").toTensor(), module_.attr("classifier_bias").toTensor());
}

bool BertRunner::hasTokenClassifierHead() const {
  if (traced_) return false;
  if (module_.hasattr(kClassifierAttribute)) return module_.attr(kClassifierAttribute).toBool();
  return hasSequenceClassifierHead();
}

torch::Tensor BertRunner::tokenClassifierLogits(const torch::Tensor& hidden) {
  const auto weight = module_.attr("classifier_weight").toTensor();
  return torch::linear(hidden.to(weight.scalar_type()), weight, module_.attr("classifier_bias").toTensor());
}

void BertRunner::packMaskedLmHead() {
  const auto activation = linearActivationFor(module_.attr("hidden_act").toStringRef());
  auto decoderWeight = module_.attr(module_.attr("mlm_decoder_tied").toBool() ? "word_embeddings" : "mlm_decoder_weight").toTensor();
  packedHead_ = PackedHead{
      c10::make_intrusive<OneDnnLinear>(module_.attr("mlm_transform_weight").toTensor(), module_.attr("mlm_transform_bias").toTensor(),
                                        activation, *cpuLinearPrecision_),
      c10::make_intrusive<OneDnnLinear>(decoderWeight, module_.attr("mlm_decoder_bias").toTensor(), LinearActivation::None,
                                        *cpuLinearPrecision_)};
}

int64_t BertRunner::numLayers() const {
  if (module_.hasattr("num_hidden_layers")) return module_.attr("num_hidden_layers").toInt();
  return std::numeric_limits<int64_t>::max();  // a traced model returns every layer whatever is asked
}

BertRunner BertRunner::fromSafetensors(const std::string& path, const BertConfig& config,
                                       const std::vector<TensorLocation>& locations,
                                       torch::Device device, torch::Dtype dtype) {
  auto module = buildEncoderModule(config, readSafetensors(locations));
  return BertRunner(std::move(module), false, device, dtype);
}

BertRunner BertRunner::fromTorchScript(const std::string& path, torch::Device device, torch::Dtype dtype) {
  // The TypeScript layer has checked that the file is a zip archive; libtorch's reader says whether
  // it is TorchScript, and its message, kept as the reason, is one line of the coded error.
  torch::jit::Module module;
  auto notLoadable = [&](const std::string& message) {
    // libtorch's first line of text: the archive's problem, without its source excerpt or backtrace.
    const auto begin = message.find_first_not_of(" \n");
    const auto reason = begin == std::string::npos ? std::string("unknown reason") : message.substr(begin, message.find('\n', begin) - begin);
    return CodedError("ERR_MODEL_FORMAT", path + " is not a TorchScript model that libtorch can load (" + reason +
                                              "); expected a file written by torch.jit.save or Encoder.export");
  };
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::OutOfMemoryError&) {
    throw;
  } catch (const c10::Error& e) {
    throw notLoadable(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    // torch::jit::ErrorReport (an archive naming types or code this process does not know) is not a c10::Error.
    throw notLoadable(e.what());
  }
  for (const auto& parameter : module.named_parameters(true)) checkFinite(path, parameter.name, parameter.value);
  for (const auto& buffer : module.named_buffers(true)) checkFinite(path, buffer.name, buffer.value);
  const bool builtByEngine = module.hasattr(kEngineFormatAttribute);
  if (builtByEngine && module.attr(kEngineFormatAttribute).toInt() != kEngineFormatVersion) {
    throw CodedError("ERR_MODEL_FORMAT", path + " was exported by an incompatible version of bert-embed-native; export it again");
  }
  return BertRunner(std::move(module), !builtByEngine, device, dtype);
}

std::vector<torch::Tensor> BertRunner::hiddenStates(const torch::Tensor& inputIds, const torch::Tensor& typeIds,
                                                    const torch::Tensor& attentionMask, int64_t deepestLayer, bool firstTokenOnly) {
  auto ids = inputIds.to(device_);
  auto types = typeIds.to(device_);
  auto mask = attentionMask.to(device_);
  if (traced_) {
    auto output = module_.forward({ids, mask.to(torch::kLong), types});
    if (!output.isTuple() || output.toTupleRef().elements().size() < 3) {
      throw CodedError("ERR_MODEL_FORMAT",
                       "a traced model must return (last_hidden_state, pooler_output, hidden_states): "
                       "trace BertModel with torchscript=True and output_hidden_states=True");
    }
    return tensorsOf(output.toTupleRef().elements()[2]);
  }
  // Padding keys get a bias so negative that their softmax weight is exactly 0. Half precision
  // cannot hold float's lowest value, but its own (-65504) is still far enough.
  const double paddingBias = dtype_ == torch::kFloat32 ? std::numeric_limits<float>::lowest() : -65504.0;
  auto keyIsPadding = mask.logical_not().view({mask.size(0), 1, 1, mask.size(1)});
  auto attentionBias = torch::zeros(keyIsPadding.sizes(), torch::TensorOptions().dtype(dtype_).device(device_))
                           .masked_fill(keyIsPadding, paddingBias);
  auto output = module_.forward({ids, types, attentionBias, deepestLayer, firstTokenOnly});
  return tensorsOf(output);
}

void BertRunner::quantizeLinearLayers() {
  if (traced_ || !module_.hasattr("int8_linears")) {
    throw CodedError("ERR_UNSUPPORTED",
                     "dtype 'int8' needs a model this engine compiles: a Hugging Face checkpoint, or a model.pt exported by this version");
  }
  // int8 on a CUDA device is refused by the TypeScript layer (lib/options.ts).
  // This addon's oneDNN int8 layers where it has them (native/cpu), else libtorch's quantized engine.
  if (packCpuLinearLayers(LinearPrecision::Int8)) return;
  auto& context = at::globalContext();
  const auto& engines = context.supportedQEngines();
  auto has = [&](at::QEngine engine) { return std::find(engines.begin(), engines.end(), engine) != engines.end(); };
  // oneDNN where libtorch has it (Debian's does; FBGEMM it lacks), else whatever it has.
  if (has(at::QEngine::ONEDNN)) context.setQEngine(at::QEngine::ONEDNN);
  else if (has(at::QEngine::FBGEMM)) context.setQEngine(at::QEngine::FBGEMM);
  else if (has(at::QEngine::QNNPACK)) context.setQEngine(at::QEngine::QNNPACK);
  else throw CodedError("ERR_UNSUPPORTED", "this libtorch has no quantized engine for dtype 'int8'");

  auto prepack = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  auto packed = module_.attr("int8_linears").toList();
  packed.clear();
  const int64_t layers = module_.attr("num_hidden_layers").toInt();
  for (const char* kind : kLinearKinds) {
    auto weights = module_.attr(std::string(kind) + "_weight").toTensor();
    auto biases = module_.attr(std::string(kind) + "_bias").toTensor();
    for (int64_t layer = 0; layer < layers; ++layer) {
      auto weight = weights[layer].contiguous();
      auto scales = (weight.abs().amax(1).clamp_min(1e-12) / 127.0).to(torch::kDouble);
      auto zeroPoints = torch::zeros({weight.size(0)}, torch::kLong);
      auto quantized = torch::quantize_per_channel(weight, scales, zeroPoints, 0, torch::kQInt8);
      torch::jit::Stack stack{quantized, c10::optional<torch::Tensor>(biases[layer].contiguous())};
      prepack.callBoxed(&stack);
      packed.push_back(stack.at(0));
    }
    // The float32 copies are not read again: let them go.
    module_.setattr(std::string(kind) + "_weight", torch::empty({0}));
  }
  // FBGEMM wants activations in 7 bits to stay exact; oneDNN and QNNPACK use all 8.
  module_.setattr("int8_reduce_range", context.qEngine() == at::QEngine::FBGEMM);
  module_.setattr("use_int8", true);
}

bool BertRunner::oneDnnSupportsLinearLayers(LinearPrecision precision) const {
  const auto activation = linearActivationFor(module_.attr("hidden_act").toStringRef());
  for (const char* kind : kLinearKinds) {
    // [layers, out, in]; the intermediate projection (kind 2) is followed by the activation.
    const auto weights = module_.attr(std::string(kind) + "_weight").toTensor();
    if (weights.dim() != 3 || weights.size(0) == 0) continue;
    const bool activated = std::string(kind) == kLinearKinds[2];
    if (!oneDnnLinearSupports(weights.size(2), weights.size(1), activated ? activation : LinearActivation::None, precision,
                              activated && precision == LinearPrecision::BFloat16)) {
      return false;
    }
  }
  if (hasMaskedLmHead()) {
    // The two products packMaskedLmHead makes: [out, in] weights.
    const auto transform = module_.attr("mlm_transform_weight").toTensor();
    const auto decoder = module_.attr(module_.attr("mlm_decoder_tied").toBool() ? "word_embeddings" : "mlm_decoder_weight").toTensor();
    if (!oneDnnLinearSupports(transform.size(1), transform.size(0), activation, precision) ||
        !oneDnnLinearSupports(decoder.size(1), decoder.size(0), LinearActivation::None, precision)) {
      return false;
    }
  }
  return true;
}

bool BertRunner::packCpuLinearLayers(LinearPrecision precision) {
  if (traced_ || !module_.hasattr("cpu_linears") || !device_.is_cpu() || dtype_ != torch::kFloat32 ||
      !oneDnnLinearAvailable() || !oneDnnLinearEnabled() || module_.attr("use_int8").toBool() || envOff("BERT_EMBED_CPU_KERNELS")) {
    return false;
  }
  // bf16 kernels are checked for every shape of the model before anything is packed, so that a case
  // oneDNN cannot do leaves the model whole for the caller's fallback (float32 and int8 run
  // everywhere oneDNN does).
  if (precision == LinearPrecision::BFloat16 && (!oneDnnBf16LinearSupported() || !oneDnnSupportsLinearLayers(precision))) {
    return false;
  }
  const int64_t layers = module_.attr("num_hidden_layers").toInt();
  const auto activation = linearActivationFor(module_.attr("hidden_act").toStringRef());
  // One kind at a time, its plain weights let go once packed: the load's peak memory holds the
  // packed copies and one kind's plain ones, not two full copies.
  std::vector<std::vector<c10::intrusive_ptr<OneDnnLinear>>> packedByKind;
  for (size_t kind = 0; kind < std::size(kLinearKinds); ++kind) {
    const std::string name = kLinearKinds[kind];
    auto weights = module_.attr(name + "_weight").toTensor();
    auto biases = module_.attr(name + "_bias").toTensor();
    auto& packedKind = packedByKind.emplace_back();
    for (int64_t layer = 0; layer < layers; ++layer) {
      // Only the intermediate projection (kind 2) is followed by the activation; in bf16 it writes bf16,
      // which its one reader, the output projection, takes as it is.
      packedKind.push_back(c10::make_intrusive<OneDnnLinear>(weights[layer], biases[layer], kind == 2 ? activation : LinearActivation::None,
                                                             precision, kind == 2 && precision == LinearPrecision::BFloat16));
    }
    module_.setattr(name + "_weight", torch::empty({0}));
  }
  c10::impl::GenericList packed(torch::getCustomClass(kOneDnnLinearClass));
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (const auto& packedKind : packedByKind) packed.push_back(packedKind[layer]);
  }
  usePackedLinearLayers(packed);
  cpuLinearPrecision_ = precision;
  return true;
}

void BertRunner::usePackedLinearLayers(const c10::impl::GenericList& packed) {
  auto layers = module_.attr("cpu_linears").toList();
  layers.clear();
  for (const auto& layer : packed) layers.push_back(layer);
  // The packed copies replace the plain ones.
  for (const char* kind : kLinearKinds) module_.setattr(std::string(kind) + "_weight", torch::empty({0}));
  module_.setattr("use_mkldnn", false);
  module_.setattr("use_cpu_kernels", true);
}

void BertRunner::restorePlainLinearWeights() {
  auto packed = module_.attr("cpu_linears").toList();
  const int64_t layers = module_.attr("num_hidden_layers").toInt();
  for (size_t kind = 0; kind < std::size(kLinearKinds); ++kind) {
    std::vector<torch::Tensor> perLayer;
    for (int64_t layer = 0; layer < layers; ++layer) {
      perLayer.push_back(packed.get(layer * 4 + kind).toCustomClass<OneDnnLinear>()->plainWeight());
    }
    module_.setattr(std::string(kLinearKinds[kind]) + "_weight", torch::stack(perLayer));
  }
}

void BertRunner::save(const std::string& path) {
  if (traced_) throw CodedError("ERR_UNSUPPORTED", "a traced model cannot be exported again; export from the Hugging Face checkpoint");
  if (!module_.hasattr("use_cpu_kernels") || !module_.attr("use_cpu_kernels").toBool()) {
    module_.save(path);
    return;
  }
  // Packed layers are this process's oneDNN layout: the file gets plain weights, as a fresh load would.
  auto packed = module_.attr("cpu_linears").toList().copy();
  restorePlainLinearWeights();
  module_.attr("cpu_linears").toList().clear();
  module_.setattr("use_cpu_kernels", false);
  struct Repack {
    BertRunner& runner;
    const c10::impl::GenericList& packed;
    ~Repack() { runner.usePackedLinearLayers(packed); }
  } repack{*this, packed};
  module_.save(path);
}

}  // namespace bert_embed
