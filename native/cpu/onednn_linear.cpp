#include "cpu/onednn_linear.h"

#include <mutex>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

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

dnnl::inner_product_forward::primitive_desc describe(int64_t rows, int64_t in, int64_t out,
                                                     const memory::desc& weightDesc, LinearActivation activation,
                                                     bool addResidual) {
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
  // Scratch memory comes from torch's allocator per call instead of living in every cached primitive.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  memory::desc bias({out}, memory::data_type::f32, memory::format_tag::a);
  dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, rowsDesc(rows, in), weightDesc, bias,
                                         rowsDesc(rows, out));
  return dnnl::inner_product_forward::primitive_desc(desc, attr, cpuEngine());
}

}  // namespace

struct OneDnnLinear::Packed {
  struct Kernel {
    dnnl::inner_product_forward primitive;
    int64_t scratchpadBytes;
  };

  int64_t outFeatures;
  int64_t inFeatures;
  LinearActivation activation;
  memory::desc weightDesc;
  torch::Tensor weight;  // bytes in weightDesc's layout
  std::mutex mutex;
  std::unordered_map<int64_t, Kernel> kernels;  // by rows * 2 + addResidual

  const Kernel& kernelFor(int64_t rows, bool addResidual) {
    const int64_t key = rows * 2 + (addResidual ? 1 : 0);
    auto found = kernels.find(key);
    if (found != kernels.end()) return found->second;
    if (kernels.size() >= kMaxKernels) kernels.clear();
    auto descriptor = describe(rows, inFeatures, outFeatures, weightDesc, activation, addResidual);
    Kernel kernel{dnnl::inner_product_forward(descriptor), static_cast<int64_t>(descriptor.scratchpad_desc().get_size())};
    return kernels.emplace(key, std::move(kernel)).first->second;
  }
};

bool oneDnnLinearAvailable() { return true; }

OneDnnLinear::OneDnnLinear(const torch::Tensor& weight, const torch::Tensor& bias, LinearActivation activation)
    : bias_(bias.to(torch::kFloat32).contiguous().clone()), packed_(std::make_unique<Packed>()) {
  auto plain = weight.to(torch::kFloat32).contiguous();
  packed_->outFeatures = plain.size(0);
  packed_->inFeatures = plain.size(1);
  packed_->activation = activation;
  memory::desc anyLayout({plain.size(0), plain.size(1)}, memory::data_type::f32, memory::format_tag::any);
  packed_->weightDesc = describe(kLayoutRows, plain.size(1), plain.size(0), anyLayout, activation, false).weights_desc();
  packed_->weight = torch::empty({static_cast<int64_t>(packed_->weightDesc.get_size())}, torch::kUInt8);
  memory source(rowsDesc(plain.size(0), plain.size(1)), cpuEngine(), plain.data_ptr());
  memory target(packed_->weightDesc, cpuEngine(), packed_->weight.data_ptr());
  dnnl::reorder(source, target).execute(threadStream(), source, target);
  threadStream().wait();
}

OneDnnLinear::~OneDnnLinear() = default;

torch::Tensor OneDnnLinear::run(const torch::Tensor& input, const torch::Tensor* residual) {
  auto& p = *packed_;
  TORCH_CHECK(input.dim() == 2 && input.size(1) == p.inFeatures && input.scalar_type() == torch::kFloat32,
              "OneDnnLinear: expected float32 input [rows, ", p.inFeatures, "], got ", input.sizes());
  auto source = input.contiguous();
  const int64_t rows = source.size(0);
  torch::Tensor output;
  if (residual) {
    TORCH_CHECK(residual->dim() == 2 && residual->size(0) == rows && residual->size(1) == p.outFeatures,
                "OneDnnLinear: residual shape ", residual->sizes());
    output = residual->to(torch::kFloat32).clone(at::MemoryFormat::Contiguous);
  } else {
    output = torch::empty({rows, p.outFeatures}, torch::kFloat32);
  }
  if (rows == 0) return output;
  std::lock_guard<std::mutex> lock(p.mutex);
  const auto& kernel = p.kernelFor(rows, residual != nullptr);
  auto scratchpad = torch::empty({kernel.scratchpadBytes}, torch::kUInt8);
  auto& engine = cpuEngine();
  memory src(rowsDesc(rows, p.inFeatures), engine, source.data_ptr());
  memory weights(p.weightDesc, engine, p.weight.data_ptr());
  memory bias({{p.outFeatures}, memory::data_type::f32, memory::format_tag::a}, engine, bias_.data_ptr());
  memory dst(rowsDesc(rows, p.outFeatures), engine, output.data_ptr());
  memory scratch({{kernel.scratchpadBytes}, memory::data_type::u8, memory::format_tag::a}, engine, scratchpad.data_ptr());
  kernel.primitive.execute(threadStream(), {{DNNL_ARG_SRC, src},
                                            {DNNL_ARG_WEIGHTS, weights},
                                            {DNNL_ARG_BIAS, bias},
                                            {DNNL_ARG_DST, dst},
                                            {DNNL_ARG_SCRATCHPAD, scratch}});
  threadStream().wait();
  return output;
}

torch::Tensor OneDnnLinear::forward(const torch::Tensor& input) { return run(input, nullptr); }

torch::Tensor OneDnnLinear::forwardAdd(const torch::Tensor& input, const torch::Tensor& residual) {
  return run(input, &residual);
}

torch::Tensor OneDnnLinear::plainWeight() const {
  auto& p = *packed_;
  auto plain = torch::empty({p.outFeatures, p.inFeatures}, torch::kFloat32);
  memory packed(p.weightDesc, cpuEngine(), p.weight.data_ptr());
  memory target(rowsDesc(p.outFeatures, p.inFeatures), cpuEngine(), plain.data_ptr());
  dnnl::reorder(packed, target).execute(threadStream(), packed, target);
  threadStream().wait();
  return plain;
}

}  // namespace bert_embed
