#pragma once

namespace bert_embed {

// Sets the calling thread's libtorch intra-op thread count (an OpenMP setting that belongs to the
// thread running forward) and, when libtorch's BLAS is OpenBLAS, OpenBLAS's own thread pool
// (process-wide). 0 leaves a setting as it is. OpenMP and OpenBLAS threads compete for the same
// cores, so their product matters as much as either one.
void configureCpuThreads(int intraOpThreads, int blasThreads);

// OpenBLAS's thread count, or 0 when libtorch's BLAS is not OpenBLAS.
int blasThreadCount();

}  // namespace bert_embed
