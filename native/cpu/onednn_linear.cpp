#include "cpu/onednn_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "engine/cpu_features.h"

namespace bert_embed {
namespace {

using dnnl::memory;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& threadStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

memory::desc rowsDesc(int64_t rows, int64_t columns) {
  return memory::desc({rows, columns}, memory::data_type::f32, memory::format_tag::ab);
}

// The weight layout is chosen for a typical batch (32 sentences of 8 tokens) and then imposed on
// every other row count, so that the weight is reordered only once.
constexpr int64_t kLayoutRows = 256;
// Row counts seen in practice are batch size × padded length; past this many kernels, start over.
constexpr size_t kMaxKernels = 512;

// The type of the products' inputs, the packed weight's and the converted activations'.
memory::data_type sourceType(LinearPrecision precision) {
  switch (precision) {
    case LinearPrecision::Int8: return memory::data_type::s8;
    case LinearPrecision::BFloat16: return memory::data_type::bf16;
    case LinearPrecision::Float32: break;
  }
  return memory::data_type::f32;
}

torch::ScalarType sourceScalarType(LinearPrecision precision) {
  switch (precision) {
    case LinearPrecision::Int8: return torch::kInt8;
    case LinearPrecision::BFloat16: return torch::kBFloat16;
    case LinearPrecision::Float32: break;
  }
  return torch::kFloat32;
}

dnnl::inner_product_forward::primitive_desc describe(int64_t rows, int64_t in, int64_t out,
                                                     const memory::desc& weightDesc, LinearActivation activation,
                                                     LinearPrecision precision, bool addResidual,
                                                     memory::data_type destination = memory::data_type::f32) {
  dnnl::post_ops ops;
  // The residual is already in the destination: the sum post-op adds the product to it.
  if (addResidual) ops.append_sum(1.0f);
  switch (activation) {
    case LinearActivation::None: break;
    case LinearActivation::GeluErf: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f); break;
    case LinearActivation::GeluTanh: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f); break;
    case LinearActivation::Relu: ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  // bf16 takes the same float32 bias and writes the same float32 output (the sum post-op reads the
  // float32 residual there); only the product's inputs are bf16, and it sums them in float32.
  // int8: the products are scaled back to float by activation scale × weight scale, one per output
  // channel, given with every call.
  if (precision == LinearPrecision::Int8) attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
  // Scratch memory comes from torch's allocator per call instead of living in every cached primitive.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  memory::desc bias({out}, memory::data_type::f32, memory::format_tag::a);
  memory::desc source({rows, in}, sourceType(precision), memory::format_tag::ab);
  memory::desc output({rows, out}, destination, memory::format_tag::ab);
  dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, source, weightDesc, bias, output);
  return dnnl::inner_product_forward::primitive_desc(desc, attr, cpuEngine());
}

// Rows of `columns` values per intra-op task: about 64K values each.
int64_t rowsPerTask(int64_t columns) { return std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(columns, 1)); }

// The largest magnitude of one row, or -1 where the row holds a NaN or an infinity (x × 0 is then
// NaN, so the probe sum is too).
float rowMagnitude(const float* __restrict values, int64_t count) {
  float largest = 0.0f;
  float probe = 0.0f;
#pragma omp simd reduction(max : largest) reduction(+ : probe)
  for (int64_t i = 0; i < count; ++i) {
    largest = std::max(largest, std::fabs(values[i]));
    probe += values[i] * 0.0f;
  }
  return std::isnan(probe) ? -1.0f : largest;
}

// Each row's magnitude (rowMagnitude) over the intra-op threads, and the largest of the finite rows.
float largestFiniteMagnitude(const float* values, int64_t rows, int64_t columns, float* rowMagnitudes) {
  return at::parallel_reduce(
      0, rows, rowsPerTask(columns), 0.0f,
      [&](int64_t begin, int64_t end, float largest) {
        for (int64_t row = begin; row < end; ++row) {
          rowMagnitudes[row] = rowMagnitude(values + row * columns, columns);
          largest = std::max(largest, rowMagnitudes[row]);
        }
        return largest;
      },
      [](float a, float b) { return std::max(a, b); });
}

// values × scale rounded to the nearest int8 (|values × scale| ≤ 127 by the choice of scale).
// Arguments, not lambda captures: int8 stores may alias anything, so through a closure the loop
// reloads its pointers at every element and does not vectorize.
void quantizeRange(const float* __restrict values, int64_t count, float scale, int8_t* __restrict out) {
#pragma omp simd
  for (int64_t i = 0; i < count; ++i) {
    const float scaled = values[i] * scale;
    out[i] = static_cast<int8_t>(static_cast<int32_t>(scaled + (scaled >= 0.0f ? 0.5f : -0.5f)));
  }
}

// Rows that are not finite (rowMagnitudes < 0) become zeros: their answer is NaN anyway (see run).
void quantizeRowsToInt8(const float* values, int64_t rows, int64_t columns, const float* rowMagnitudes, float scale, int8_t* out) {
  at::parallel_for(0, rows, rowsPerTask(columns), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      if (rowMagnitudes[row] < 0.0f) std::memset(out + row * columns, 0, columns);
      else quantizeRange(values + row * columns, columns, scale, out + row * columns);
    }
  });
}

// bf16: the float32 input [rows, in] rounded to bf16 (to nearest even), which the product reads.
dnnl::reorder bf16SourceReorder(int64_t rows, int64_t in) {
  memory::desc rounded({rows, in}, memory::data_type::bf16, memory::format_tag::ab);
  return dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), rowsDesc(rows, in), cpuEngine(), rounded));
}

// oneDNN's reference kernels (ref:any) are its portable, unoptimized code: working but slow.
bool isJitKernel(const dnnl::inner_product_forward::primitive_desc& descriptor) {
  const std::string name = descriptor.impl_info_str();
  return name.rfind("ref", 0) != 0;
}

}  // namespace

struct OneDnnLinear::Packed {
  struct Kernel {
    dnnl::inner_product_forward primitive;
    int64_t scratchpadBytes;
    dnnl::reorder sourceReorder;  // bf16 only: the float32 input to bf16
  };

  int64_t outFeatures;
  int64_t inFeatures;
  LinearActivation activation;
  LinearPrecision precision;
  memory::data_type destinationType = memory::data_type::f32;
  memory::desc weightDesc;
  torch::Tensor weight;        // bytes in weightDesc's layout
  torch::Tensor weightScales;  // int8: [out] float32, weight ≈ int8 weight × scale
  std::mutex mutex;
  // By rows, addResidual and the intra-op threads: oneDNN fixes a primitive's thread count when it
  // is made, and a batch may run on fewer threads than the last (engine/cpu_threads.h).
  std::unordered_map<int64_t, Kernel> kernels;

  const Kernel& kernelFor(int64_t rows, bool addResidual) {
    const int64_t key = ((rows * 2 + (addResidual ? 1 : 0)) << 10) | std::min<int64_t>(at::get_num_threads(), 1023);
    auto found = kernels.find(key);
    if (found != kernels.end()) return found->second;
    if (kernels.size() >= kMaxKernels) kernels.clear();
    auto descriptor = describe(rows, inFeatures, outFeatures, weightDesc, activation, precision, addResidual, destinationType);
    Kernel kernel{dnnl::inner_product_forward(descriptor), static_cast<int64_t>(descriptor.scratchpad_desc().get_size()), {}};
    if (precision == LinearPrecision::BFloat16) kernel.sourceReorder = bf16SourceReorder(rows, inFeatures);
    return kernels.emplace(key, std::move(kernel)).first->second;
  }
};

bool oneDnnLinearAvailable() { return true; }

bool oneDnnLinearSupports(int64_t inFeatures, int64_t outFeatures, LinearActivation activation, LinearPrecision precision,
                          bool bf16Output) {
  try {
    // The weight layout as the constructor chooses it, then a product with the residual sum on that
    // layout, as kernelFor makes them; both on JIT kernels.
    memory::desc anyLayout({outFeatures, inFeatures}, sourceType(precision), memory::format_tag::any);
    auto plain = describe(kLayoutRows, inFeatures, outFeatures, anyLayout, activation, precision, false);
    if (!isJitKernel(plain)) return false;
    const auto weightDesc = plain.weights_desc();
    if (!isJitKernel(describe(kLayoutRows, inFeatures, outFeatures, weightDesc, activation, precision, true))) return false;
    if (bf16Output && !isJitKernel(describe(kLayoutRows, inFeatures, outFeatures, weightDesc, activation, precision, false,
                                            memory::data_type::bf16))) {
      return false;
    }
    // The reorders: the weight into its layout once, and bf16 activations per call.
    memory::desc plainWeight({outFeatures, inFeatures}, sourceType(precision), memory::format_tag::ab);
    const dnnl::reorder::primitive_desc weightReorder(cpuEngine(), plainWeight, cpuEngine(), weightDesc);
    (void)weightReorder;
    if (precision == LinearPrecision::BFloat16) bf16SourceReorder(kLayoutRows, inFeatures);
    return true;
  } catch (const dnnl::error&) {
    // `unimplemented`: no kernel for this case on this CPU.
    return false;
  }
}

bool oneDnnBf16LinearSupported() {
  static const bool supported = [] {
    // Without avx512_bf16, oneDNN 2.x emulates bf16 on plain AVX-512 (slower than float32) and has
    // no bf16 at all below it.
    if (!cpuHasBf16()) return false;
    // A layer with everything fused, the way the encoder's intermediate projection is made.
    return oneDnnLinearSupports(256, 1024, LinearActivation::GeluErf, LinearPrecision::BFloat16);
  }();
  return supported;
}

// Largest int8 weight. Before VNNI, x86 multiplies int8 pairs with vpmaddubsw, whose int16 pair
// sums saturate (the activation shifted to u8 up to 255, × 127 × 2 > 32767): weights in 7 bits
// (|w| ≤ 63) keep every sum exact. On an AVX2-only CPU, 8-bit weights lost about 1% of cosine.
static int64_t int8WeightLimit() {
  static const int64_t limit = cpuFeatures().avx512Vnni || cpuFeatures().avxVnni ? 127 : 63;
  return limit;
}

const char* int8KernelDescription() {
  return int8WeightLimit() == 127 ? "oneDNN VNNI, 8-bit weights" : "oneDNN without VNNI, 7-bit weights";
}

OneDnnLinear::OneDnnLinear(const torch::Tensor& weight, const torch::Tensor& bias, LinearActivation activation,
                           LinearPrecision precision, bool bf16Output)
    : bias_(bias.to(torch::kFloat32).contiguous().clone()), packed_(std::make_unique<Packed>()) {
  auto& p = *packed_;
  TORCH_CHECK(!bf16Output || precision == LinearPrecision::BFloat16, "OneDnnLinear: a bf16 output needs bf16 precision");
  if (bf16Output) p.destinationType = memory::data_type::bf16;
  auto plain = weight.to(torch::kFloat32).contiguous();
  p.outFeatures = plain.size(0);
  p.inFeatures = plain.size(1);
  p.activation = activation;
  p.precision = precision;
  if (precision == LinearPrecision::Int8) {
    const auto limit = int8WeightLimit();
    p.weightScales = (plain.abs().amax(1).clamp_min(1e-12) / static_cast<double>(limit)).contiguous();
    plain = (plain / p.weightScales.unsqueeze(1)).round().clamp(-limit, limit).to(torch::kInt8).contiguous();
  } else if (precision == LinearPrecision::BFloat16) {
    // Rounded to nearest even, as torch rounds; the reorder below only changes the layout.
    plain = plain.to(torch::kBFloat16).contiguous();
  }
  const auto weightType = sourceType(precision);
  memory::desc anyLayout({p.outFeatures, p.inFeatures}, weightType, memory::format_tag::any);
  p.weightDesc = describe(kLayoutRows, p.inFeatures, p.outFeatures, anyLayout, activation, precision, false).weights_desc();
  p.weight = torch::empty({static_cast<int64_t>(p.weightDesc.get_size())}, torch::kUInt8);
  memory source({{p.outFeatures, p.inFeatures}, weightType, memory::format_tag::ab}, cpuEngine(), plain.data_ptr());
  memory target(p.weightDesc, cpuEngine(), p.weight.data_ptr());
  dnnl::reorder(source, target).execute(threadStream(), source, target);
  threadStream().wait();
}

OneDnnLinear::~OneDnnLinear() = default;

torch::Tensor OneDnnLinear::run(const torch::Tensor& input, const torch::Tensor* residual) {
  auto& p = *packed_;
  // A bf16 layer also reads what a bf16-output layer wrote, as it is: already rounded.
  const bool roundedInput = input.scalar_type() == torch::kBFloat16 && p.precision == LinearPrecision::BFloat16;
  TORCH_CHECK(input.dim() == 2 && input.size(1) == p.inFeatures && (input.scalar_type() == torch::kFloat32 || roundedInput),
              "OneDnnLinear: expected float32 input [rows, ", p.inFeatures, "], got ", input.sizes());
  auto source = input.contiguous();
  const int64_t rows = source.size(0);
  const bool bf16Output = p.destinationType == memory::data_type::bf16;
  torch::Tensor output;
  if (residual) {
    TORCH_CHECK(!bf16Output && residual->dim() == 2 && residual->size(0) == rows && residual->size(1) == p.outFeatures,
                "OneDnnLinear: residual shape ", residual->sizes());
    output = residual->to(torch::kFloat32).clone(at::MemoryFormat::Contiguous);
  } else {
    output = torch::empty({rows, p.outFeatures}, bf16Output ? torch::kBFloat16 : torch::kFloat32);
  }
  if (rows == 0) return output;
  auto& engine = cpuEngine();
  std::unordered_map<int, memory> arguments;
  torch::Tensor bias = bias_;
  torch::Tensor outputScales;
  torch::Tensor rowMagnitudes;  // int8: each row's largest magnitude, -1 for a row that is not finite
  if (p.precision == LinearPrecision::Int8) {
    // One scale for the whole input, taken over its finite rows: a row that overflowed (one
    // sentence's) must not spoil the others'. The products come back as float through per-channel scales.
    rowMagnitudes = torch::empty({rows}, torch::kFloat32);
    const float largest = largestFiniteMagnitude(source.data_ptr<float>(), rows, p.inFeatures, rowMagnitudes.data_ptr<float>());
    const float inputScale = largest > 0.0f ? largest / 127.0f : 1.0f;
    auto quantized = torch::empty({rows, p.inFeatures}, torch::kInt8);
    quantizeRowsToInt8(source.data_ptr<float>(), rows, p.inFeatures, rowMagnitudes.data_ptr<float>(), 1.0f / inputScale,
                       quantized.data_ptr<int8_t>());
    source = quantized;
    outputScales = p.weightScales * inputScale;
    // oneDNN adds an int8 product's bias before the output scales.
    bias = bias_ / outputScales;
    arguments.emplace(DNNL_ARG_ATTR_OUTPUT_SCALES,
                      memory({{p.outFeatures}, memory::data_type::f32, memory::format_tag::a}, engine, outputScales.data_ptr()));
  }
  std::lock_guard<std::mutex> lock(p.mutex);
  const auto& kernel = p.kernelFor(rows, residual != nullptr);
  if (p.precision == LinearPrecision::BFloat16 && !roundedInput) {
    // The input rounded to bf16 by oneDNN's reorder; the product sums in float32 into the float32 output.
    auto rounded = torch::empty({rows, p.inFeatures}, torch::kBFloat16);
    memory from(rowsDesc(rows, p.inFeatures), engine, source.data_ptr());
    memory to({{rows, p.inFeatures}, memory::data_type::bf16, memory::format_tag::ab}, engine, rounded.data_ptr());
    kernel.sourceReorder.execute(threadStream(), from, to);
    source = rounded;
  }
  auto scratchpad = torch::empty({kernel.scratchpadBytes}, torch::kUInt8);
  arguments.emplace(DNNL_ARG_SRC, memory({{rows, p.inFeatures}, sourceType(p.precision), memory::format_tag::ab}, engine, source.data_ptr()));
  arguments.emplace(DNNL_ARG_WEIGHTS, memory(p.weightDesc, engine, p.weight.data_ptr()));
  arguments.emplace(DNNL_ARG_BIAS, memory({{p.outFeatures}, memory::data_type::f32, memory::format_tag::a}, engine, bias.data_ptr()));
  arguments.emplace(DNNL_ARG_DST, memory({{rows, p.outFeatures}, p.destinationType, memory::format_tag::ab}, engine, output.data_ptr()));
  arguments.emplace(DNNL_ARG_SCRATCHPAD,
                    memory({{kernel.scratchpadBytes}, memory::data_type::u8, memory::format_tag::a}, engine, scratchpad.data_ptr()));
  kernel.primitive.execute(threadStream(), arguments);
  threadStream().wait();
  if (rowMagnitudes.defined()) {
    // The rows that were not finite stay so, for the engine's check to fail their call.
    const float* magnitudes = rowMagnitudes.data_ptr<float>();
    for (int64_t row = 0; row < rows; ++row) {
      if (magnitudes[row] < 0.0f) output[row].fill_(std::numeric_limits<float>::quiet_NaN());
    }
  }
  return output;
}

torch::Tensor OneDnnLinear::forward(const torch::Tensor& input) { return run(input, nullptr); }

torch::Tensor OneDnnLinear::forwardAdd(const torch::Tensor& input, const torch::Tensor& residual) {
  return run(input, &residual);
}

torch::Tensor OneDnnLinear::plainWeight() const {
  auto& p = *packed_;
  auto plain = torch::empty({p.outFeatures, p.inFeatures}, sourceScalarType(p.precision));
  memory packed(p.weightDesc, cpuEngine(), p.weight.data_ptr());
  memory target({{p.outFeatures, p.inFeatures}, sourceType(p.precision), memory::format_tag::ab}, cpuEngine(), plain.data_ptr());
  dnnl::reorder(packed, target).execute(threadStream(), packed, target);
  threadStream().wait();
  switch (p.precision) {
    case LinearPrecision::Int8: return plain.to(torch::kFloat32) * p.weightScales.unsqueeze(1);
    case LinearPrecision::BFloat16: return plain.to(torch::kFloat32);
    case LinearPrecision::Float32: break;
  }
  return plain;
}

}  // namespace bert_embed
