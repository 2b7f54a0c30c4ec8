// The machine's matrix-product rate per precision, through the oneDNN the addon links: the peak
// the encoder's figures are read against (bench/cpu-peak.mjs). Prints one JSON line per case.
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace dnnl;

double rate(engine& eng, stream& s, memory::data_type type, int64_t m, int64_t n, int64_t k) {
  const auto dst = type == memory::data_type::s8 ? memory::data_type::s32 : memory::data_type::f32;
  memory::desc a({m, k}, type, memory::format_tag::ab), b({k, n}, type, memory::format_tag::any), c({m, n}, dst, memory::format_tag::ab);
  matmul::primitive_desc pd(matmul::desc(a, b, c), eng);
  memory ma(a, eng), mb(pd.weights_desc(), eng), mc(c, eng);
  std::memset(ma.get_data_handle(), 0, a.get_size());
  std::memset(mb.get_data_handle(), 0, pd.weights_desc().get_size());
  matmul product(pd);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
  for (int i = 0; i < 5; ++i) product.execute(s, args);
  s.wait();
  int runs = 0;
  const auto start = std::chrono::steady_clock::now();
  double seconds = 0;
  while (seconds < 1.0) {
    product.execute(s, args);
    s.wait();
    ++runs;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::printf("{\"type\":\"%s\",\"m\":%ld,\"n\":%ld,\"k\":%ld,\"gflops\":%.1f,\"kernel\":\"%s\"}\n",
              type == memory::data_type::f32 ? "f32" : type == memory::data_type::bf16 ? "bf16" : "s8", (long)m, (long)n, (long)k,
              2.0 * m * n * k * runs / seconds / 1e9, pd.impl_info_str());
  return 0;
}

int main() {
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  for (auto type : {memory::data_type::f32, memory::data_type::bf16, memory::data_type::s8}) {
    try {
      rate(eng, s, type, 1024, 1024, 1024);  // large: the peak
      rate(eng, s, type, 448, 1536, 384);    // a MiniLM batch's intermediate product (32 sentences of 14 tokens)
    } catch (const dnnl::error& e) {
      std::printf("{\"type\":%d,\"error\":\"%s\"}\n", (int)type, e.what());
    }
  }
}
