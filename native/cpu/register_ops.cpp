// The CPU kernels the TorchScript encoder calls as `bert_embed.*` (native/model/bert_encoder.torchscript).
#include <torch/custom_class.h>
#include <torch/library.h>

#include "cpu/fused_attention.h"
#include "cpu/onednn_linear.h"

TORCH_LIBRARY(bert_embed, library) {
  library.class_<bert_embed::OneDnnLinear>("OneDnnLinear")
      .def("forward", &bert_embed::OneDnnLinear::forward)
      .def("forward_add", &bert_embed::OneDnnLinear::forwardAdd);
  library.def("self_attention", &bert_embed::fusedSelfAttention);
}
