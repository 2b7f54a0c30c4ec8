#pragma once
#include <torch/custom_class.h>
#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <string>

namespace bert_embed {

// The activation a linear layer applies to its output, fused into the same oneDNN primitive.
enum class LinearActivation : int64_t { None = 0, GeluErf = 1, GeluTanh = 2, Relu = 3 };

inline LinearActivation linearActivationFor(const std::string& hiddenAct) {
  if (hiddenAct == "gelu") return LinearActivation::GeluErf;
  if (hiddenAct == "gelu_new" || hiddenAct == "gelu_pytorch_tanh") return LinearActivation::GeluTanh;
  return LinearActivation::Relu;
}

// Whether the addon was built against oneDNN's headers (Debian's libdnnl-dev); without them
// OneDnnLinear cannot be made and the encoder keeps torch's own linear layers.
bool oneDnnLinearAvailable();

// How OneDnnLinear multiplies: float32 throughout; int8 (weights quantized once per output channel,
// symmetric; activations quantized per call with one symmetric scale: dynamic quantization); or
// bfloat16 (weights rounded to bf16 once, activations rounded per call, products summed in float32,
// bias, activation, residual and output in float32).
enum class LinearPrecision { Float32, Int8, BFloat16 };

// Whether oneDNN multiplies bfloat16 at full speed on this CPU: it has avx512_bf16 (Zen 4, Zen 5,
// Cooper Lake) or AMX (Sapphire Rapids and later), and oneDNN makes a JIT bf16 inner product here.
// Decided once, at run time. Elsewhere oneDNN would emulate bf16 (AVX-512 without avx512_bf16) or
// has no bf16 at all (AVX2), and OneDnnLinear is not made in bf16.
bool oneDnnBf16LinearSupported();

// dtype 'int8''s products on this CPU, for libtorchInfo(): oneDNN's with 8-bit weights where the CPU
// has VNNI, 7-bit ones without (int16 pair sums would saturate), or libtorch's quantized engine.
const char* int8KernelDescription();

// Whether OneDnnLinear can be made for a layer of this shape, activation and precision here, with
// and without the residual sum, on one of oneDNN's JIT kernels (not its slow reference code):
// checked before a model is packed, so that an unsupported case falls back as a whole.
bool oneDnnLinearSupports(int64_t inFeatures, int64_t outFeatures, LinearActivation activation, LinearPrecision precision,
                          bool bf16Output = false);

// A linear layer (y = x·Wᵀ + b, float32 in and out) whose weight oneDNN reordered once, at load,
// into the blocked layout its matrix-product kernel reads. torch.mkldnn_linear takes a plain weight
// and reorders it on every call, and needs its input and output copied to and from oneDNN tensors;
// this reads and writes plain torch tensors in place, and fuses the bias, the activation and an
// optional residual sum into the product.
class OneDnnLinear : public torch::CustomClassHolder {
 public:
  // bf16Output (bf16 precision only): the output in bf16, for a layer whose only reader is another
  // bf16 layer (the intermediate projection, read by the output projection): the reader would round
  // it to bf16 anyway, so the result is the same, without a float32 copy and a reorder in between.
  OneDnnLinear(const torch::Tensor& weight, const torch::Tensor& bias, LinearActivation activation,
               LinearPrecision precision = LinearPrecision::Float32, bool bf16Output = false);
  ~OneDnnLinear() override;

  // input [rows, in] → [rows, out]; input float32, or bf16 for a bf16 layer
  torch::Tensor forward(const torch::Tensor& input);
  // input [rows, in] → input·Wᵀ + b + residual, residual [rows, out]
  torch::Tensor forwardAdd(const torch::Tensor& input, const torch::Tensor& residual);

  // The weight back in its plain [out, in] float32 layout (for saving a model; int8 weights come
  // back dequantized, bf16 ones as the float32 values of their bf16 roundings).
  torch::Tensor plainWeight() const;
  const torch::Tensor& bias() const { return bias_; }

 private:
  struct Packed;  // oneDNN's objects, kept out of this header
  torch::Tensor run(const torch::Tensor& input, const torch::Tensor* residual);

  torch::Tensor bias_;
  std::unique_ptr<Packed> packed_;
};

// The TorchScript name of OneDnnLinear, as module attributes declare it.
inline constexpr const char* kOneDnnLinearClass = "__torch__.torch.classes.bert_embed.OneDnnLinear";

}  // namespace bert_embed
