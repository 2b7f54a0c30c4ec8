#include "engine/cpu_features.h"

#include <cpuid.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>

namespace bert_embed {
namespace {

bool bit(uint32_t value, int index) { return (value >> index) & 1u; }

// The extended state the OS saves for threads (XCR0): AVX-512 and AMX registers are usable only where it does.
uint64_t osSavedState() {
  uint32_t eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !bit(ecx, 27)) return 0;  // OSXSAVE
  uint32_t low, high;
  __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (static_cast<uint64_t>(high) << 32) | low;
}

CpuFeatures detect() {
  CpuFeatures features;
  uint32_t eax, ebx, ecx, edx;
  if (__get_cpuid_max(0, nullptr) < 7) return features;
  const uint64_t state = osSavedState();
  const bool avxState = (state & 0x6) == 0x6;
  const bool avx512State = avxState && (state & 0xe0) == 0xe0;
  const bool amxState = (state & 0x60000) == 0x60000;
  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  const bool fma = bit(ecx, 12);
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  features.avx2 = avxState && bit(ebx, 5) && fma;
  features.avx512 = avx512State && bit(ebx, 16) && bit(ebx, 17) && bit(ebx, 30) && bit(ebx, 31);  // F, DQ, BW, VL
  features.avx512Vnni = features.avx512 && bit(ecx, 11);
  features.amx = amxState && bit(edx, 24) && bit(edx, 22) && bit(edx, 25);  // tile, bf16, int8
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  features.avxVnni = features.avx2 && bit(eax, 4);
  features.avx512Bf16 = features.avx512 && bit(eax, 5);
  return features;
}

// oneDNN's ISA ceiling names, from the lowest; each level allows what the ones before it do.
void applyCeiling(CpuFeatures& features) {
  const char* setting = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!setting) setting = std::getenv("DNNL_MAX_CPU_ISA");
  if (!setting) return;
  std::string name(setting);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (name.empty() || name == "ALL" || name.rfind("AVX512_CORE_AMX", 0) == 0) return;
  if (name == "AVX512_CORE_BF16" || name == "AVX512_CORE_FP16") {
    features.amx = false;
    return;
  }
  features.amx = features.avx512Bf16 = false;
  if (name == "AVX512_CORE_VNNI") return;
  features.avx512Vnni = false;
  if (name == "AVX512_CORE") return;
  features.avx512 = false;
  if (name == "AVX2_VNNI" || name == "AVX2_VNNI_2") return;
  features.avxVnni = false;
  if (name == "AVX2") return;
  features.avx2 = false;  // SSE41, AVX
}

}  // namespace

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures features = [] {
    auto detected = detect();
    applyCeiling(detected);
    return detected;
  }();
  return features;
}

std::string cpuIsaClass() {
  const auto& f = cpuFeatures();
  if (!f.avx512) return f.avx2 ? "avx2" : "sse";
  std::string name = "avx512";
  if (f.avx512Vnni) name += "+vnni";
  if (f.avx512Bf16) name += "+bf16";
  if (f.amx) name += "+amx";
  return name;
}

}  // namespace bert_embed
