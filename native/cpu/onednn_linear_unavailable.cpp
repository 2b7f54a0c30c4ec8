// Built instead of onednn_linear.cpp when CMake finds no oneDNN headers.
#include "common/job_error.h"
#include "cpu/onednn_linear.h"

namespace bert_embed {

struct OneDnnLinear::Packed {};

bool oneDnnLinearAvailable() { return false; }
bool oneDnnBf16LinearSupported() { return false; }
bool oneDnnLinearSupports(int64_t, int64_t, LinearActivation, LinearPrecision, bool) { return false; }
const char* int8KernelDescription() { return "libtorch quantized::linear_dynamic"; }

OneDnnLinear::OneDnnLinear(const torch::Tensor&, const torch::Tensor&, LinearActivation, LinearPrecision, bool) {
  throw CodedError("ERR_UNSUPPORTED", "this build of bert-embed-native has no oneDNN kernels");
}
OneDnnLinear::~OneDnnLinear() = default;
torch::Tensor OneDnnLinear::forward(const torch::Tensor& input) { return run(input, nullptr); }
torch::Tensor OneDnnLinear::forwardAdd(const torch::Tensor& input, const torch::Tensor& residual) { return run(input, &residual); }
torch::Tensor OneDnnLinear::run(const torch::Tensor&, const torch::Tensor*) { return {}; }
torch::Tensor OneDnnLinear::plainWeight() const { return {}; }

}  // namespace bert_embed
