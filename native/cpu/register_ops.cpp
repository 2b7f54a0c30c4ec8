// The CPU kernels the TorchScript encoder calls as `bert_embed.*` (native/model/bert_encoder.torchscript).
#include <torch/custom_class.h>
#include <torch/library.h>

#include "cpu/fused_attention.h"
#include "cpu/onednn_linear.h"

TORCH_LIBRARY(bert_embed, library) {
  library.class_<bert_embed::OneDnnLinear>("OneDnnLinear")
      .def("forward", &bert_embed::OneDnnLinear::forward)
      .def("forward_add", &bert_embed::OneDnnLinear::forwardAdd);
  // query_rows defaults to all, so that the code an older export carries still compiles and the
  // engine format check can name the problem.
  library.def("self_attention(Tensor qkv, Tensor bias, int heads, float scale, int query_rows=-1) -> Tensor",
              &bert_embed::fusedSelfAttention);
}
