#include "engine/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace bert_embed {
namespace {

template <typename Function>
Function openBlasFunction(const char* name) {
  // Looked up at run time: libtorch reaches OpenBLAS only through libblas.so.3, whichever BLAS that is.
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void configureCpuThreads(int intraOpThreads, int blasThreads) {
  if (intraOpThreads > 0) at::set_num_threads(intraOpThreads);
  if (blasThreads > 0) {
    if (auto setThreads = openBlasFunction<void (*)(int)>("openblas_set_num_threads")) setThreads(blasThreads);
  }
}

int blasThreadCount() {
  auto getThreads = openBlasFunction<int (*)()>("openblas_get_num_threads");
  return getThreads ? getThreads() : 0;
}

}  // namespace bert_embed
