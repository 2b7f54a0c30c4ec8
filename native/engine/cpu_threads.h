#pragma once
#include <cstdint>

namespace bert_embed {

// Sets the calling thread's libtorch intra-op thread count (an OpenMP setting that belongs to the
// thread running forward) and, when libtorch's BLAS is OpenBLAS, OpenBLAS's own thread pool
// (process-wide). 0 leaves a setting as it is. OpenMP and OpenBLAS threads compete for the same
// cores, so their product matters as much as either one.
void configureCpuThreads(int intraOpThreads, int blasThreads);

// OpenBLAS's thread count, or 0 when libtorch's BLAS is not OpenBLAS.
int blasThreadCount();

// The intra-op threads for one batch of `tokens` (rows × padded length) on the CPU, out of the
// `configured` ones (the worker thread's setting between batches): a small batch takes one thread while the worker thread has lately waited for a
// core more than 5% of the time (other processes want the cores), because a parallel region then waits for a
// descheduled thread (one sentence on 2 busy cores: 11 ms on two threads, 5 ms on one; BENCHMARKS.md
// "One sentence at a time"). Quiet, and for larger batches, the configured threads. The results do
// not depend on the choice (test/engine/cpu-paths.test.ts).
int intraOpThreadsForBatch(int configured, int64_t tokens);

// For one batch: on the CPU, sets the calling thread's intra-op threads to intraOpThreadsForBatch's
// and puts the configured count back after, measuring how long the thread waited for a core meanwhile
// (which intraOpThreadsForBatch reads). Elsewhere (CUDA) it changes nothing.
class BatchThreads {
 public:
  BatchThreads(bool onCpu, int64_t tokens);
  ~BatchThreads();
  BatchThreads(const BatchThreads&) = delete;
  BatchThreads& operator=(const BatchThreads&) = delete;

 private:
  bool onCpu_;
  int previous_;
  double startWall_;
  double startWait_;
};

}  // namespace bert_embed
