#pragma once
#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

#include "cpu/onednn_linear.h"
#include "model/bert_config.h"
#include "model/safetensors_reader.h"

namespace bert_embed {

// Whether the engine runs its linear layers with oneDNN on the CPU (float32): libtorch has it and
// BERT_EMBED_MKLDNN=0 (kept for comparisons) does not turn it off.
bool oneDnnLinearEnabled();

// Whether dtype 'bfloat16' on the CPU runs its linear layers on oneDNN's bf16 kernels, everything
// else in float32: the addon has oneDNN, the CPU has avx512_bf16 or AMX (oneDnnBf16LinearSupported),
// and neither BERT_EMBED_MKLDNN=0 nor BERT_EMBED_CPU_KERNELS=0 is set. Otherwise the whole model
// runs on torch's bfloat16 ops.
bool oneDnnBf16LinearEnabled();

// A BERT on one device in one dtype, whatever file it came from: weights compiled by this
// engine, a model.pt it exported, or a TorchScript file traced from Hugging Face BertModel.
class BertRunner {
 public:
  static BertRunner fromSafetensors(const std::string& path, const BertConfig& config,
                                    const std::vector<TensorLocation>& locations,
                                    torch::Device device, torch::Dtype dtype);
  static BertRunner fromTorchScript(const std::string& path, torch::Device device, torch::Dtype dtype);

  // dtype 'int8': the linear layers' weights quantized per output channel (symmetric int8) and
  // prepacked; activations stay float32 and are quantized on the fly. CPU only.
  void quantizeLinearLayers();

  // dtype 'bfloat16' on the CPU, for a runner made in float32: where oneDnnBf16LinearEnabled() and
  // oneDNN has JIT kernels for every linear layer of this model, the layers (and the masked-LM head,
  // on first use) are packed in bf16 and everything else stays float32; otherwise (a traced model,
  // a CPU without avx512_bf16, a shape oneDNN cannot do) the whole model is converted to bfloat16.
  void useCpuBFloat16();

  // On the CPU in float32, where the addon has oneDNN: packs every linear layer once for oneDNN
  // (native/cpu), in float32, int8 or bf16, and lets the plain float32 copies go. Returns false and
  // does nothing elsewhere, with BERT_EMBED_CPU_KERNELS=0 (kept for comparisons), or in bf16 where
  // oneDNN has no bf16 JIT kernel for one of the model's layers.
  bool packCpuLinearLayers(LinearPrecision precision = LinearPrecision::Float32);

  // Hidden states [embedding output, layer 1, …, layer `deepestLayer`], each [B, T, H], but for
  // `firstTokenOnly` the deepest [B, 1, H]: its [CLS] row alone. A traced model always returns every
  // layer, whole.
  std::vector<torch::Tensor> hiddenStates(const torch::Tensor& inputIds, const torch::Tensor& typeIds,
                                          const torch::Tensor& attentionMask, int64_t deepestLayer, bool firstTokenOnly);

  // Whether the model holds BertForMaskedLM's head (never for a traced BertModel).
  bool hasMaskedLmHead() const;
  // Vocabulary logits of the masked-LM head for hidden states gathered at chosen positions:
  // [rows, hidden] -> [rows, vocab], in the model's dtype.
  torch::Tensor maskedLmLogits(const torch::Tensor& rows);
  // Whether the model holds BertForSequenceClassification's pooler and classifier.
  bool hasSequenceClassifierHead() const;
  // Logits of the sequence-classification head for [CLS] hidden states: [rows, hidden] -> [rows, num_labels]
  // (tanh(pooler) then the classifier), in the model's dtype.
  torch::Tensor sequenceClassifierLogits(const torch::Tensor& clsRows);
  // Whether the model holds a classifier (BertForTokenClassification's head reads no pooler).
  bool hasTokenClassifierHead() const;
  // The classifier on every token: [B, T, hidden] -> [B, T, num_labels], in the model's dtype.
  torch::Tensor tokenClassifierLogits(const torch::Tensor& hidden);
  // Encoder layers: the deepest hidden state hiddenStates can return.
  int64_t numLayers() const;

  void save(const std::string& path);
  bool isTraced() const { return traced_; }
  torch::Device device() const { return device_; }
  torch::Dtype dtype() const { return dtype_; }

 private:
  BertRunner(torch::jit::Module module, bool traced, torch::Device device, torch::Dtype dtype);

  // Converts the floating-point weights to `dtype` and chooses the linear layers' path for it.
  void useDtype(torch::Dtype dtype);
  // Whether oneDNN can pack every linear layer of this model (and its masked-LM head) in `precision`.
  bool oneDnnSupportsLinearLayers(LinearPrecision precision) const;

  // The plain weights of packed linear layers, put back for as long as save() writes the module.
  void restorePlainLinearWeights();
  void usePackedLinearLayers(const c10::impl::GenericList& packed);

  // The masked-LM head's two products packed for oneDNN in the encoder's precision, on first use,
  // so that models whose head is never asked for hold no second copy of the decoder.
  struct PackedHead {
    c10::intrusive_ptr<OneDnnLinear> transform;  // activation fused
    c10::intrusive_ptr<OneDnnLinear> decoder;
  };
  void packMaskedLmHead();

  torch::jit::Module module_;
  std::optional<LinearPrecision> cpuLinearPrecision_;  // set once the encoder's layers are packed
  std::optional<PackedHead> packedHead_;
  bool traced_;
  torch::Device device_;
  torch::Dtype dtype_;
};

}  // namespace bert_embed
