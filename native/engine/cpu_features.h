#pragma once
#include <string>

namespace bert_embed {

// The instruction sets the CPU paths choose by, read once: what the CPU and the OS offer, capped by
// oneDNN's own ceiling (DNNL_MAX_CPU_ISA or ONEDNN_MAX_CPU_ISA, e.g. AVX2), so that one setting makes
// this engine and oneDNN behave as on an older CPU.
struct CpuFeatures {
  bool avx2 = false;        // with FMA
  bool avx512 = false;      // F, VL, DQ and BW: oneDNN's avx512_core
  bool avx512Vnni = false;  // int8 products without saturating int16 sums
  bool avxVnni = false;     // the same on 256-bit registers (Alder Lake and later)
  bool avx512Bf16 = false;  // bf16 dot products
  bool amx = false;         // AMX tiles with bf16 and int8
};

const CpuFeatures& cpuFeatures();

// The class the engine's CPU choices are keyed by: "sse", "avx2", "avx512", then "+vnni", "+bf16", "+amx".
std::string cpuIsaClass();

// Whether the CPU multiplies bfloat16 in hardware (avx512_bf16 or AMX).
inline bool cpuHasBf16() { return cpuFeatures().avx512Bf16 || cpuFeatures().amx; }

}  // namespace bert_embed
