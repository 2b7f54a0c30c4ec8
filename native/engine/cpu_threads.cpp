#include "engine/cpu_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <cstdio>

namespace bert_embed {
namespace {

template <typename Function>
Function openBlasFunction(const char* name) {
  // Looked up at run time: libtorch reaches OpenBLAS only through libblas.so.3, whichever BLAS that is.
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

// Batches up to this many tokens are "small": one sentence of up to 64 tokens, or a few short ones.
constexpr int64_t kSmallBatchTokens = 64;
// Above this share of its time spent waiting for a core, the worker thread counts as contended.
constexpr double kContendedWait = 0.05;
// Batches in a row that must find the machine quiet before a contended worker uses its threads again.
constexpr int kQuietBatchesToLeave = 3;

double wallSeconds() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// Seconds the calling thread has spent runnable but waiting for a core (the second field of
// /proc/thread-self/schedstat), or a negative number where the kernel does not say.
double secondsWaitingForCpu() {
  thread_local int file = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (file < 0) return -1;
  char text[96];
  const ssize_t length = pread(file, text, sizeof text - 1, 0);
  if (length <= 0) return -1;
  text[length] = 0;
  unsigned long long running = 0, waiting = 0;
  if (std::sscanf(text, "%llu %llu", &running, &waiting) != 2) return -1;
  return 1e-9 * static_cast<double>(waiting);
}

// The share of its recent batches' time the worker thread spent waiting for a core, a slow moving
// average (one batch's share jumps between 0 and 0.5 beside two busy processes on 2 cores, as the
// scheduler favours a thread that slept): about 0 on a quiet machine, 0.1-0.3 there. Its own time
// would not show it (a thread waiting for a descheduled one spins), nor would the process's (idle
// intra-op threads spin too).
thread_local double recentCpuWait = 0.0;
thread_local bool contended = false;
thread_local int quietBatches = 0;

// Runnable tasks on the machine now (the fourth field of /proc/loadavg, "running/total"), or -1.
int runnableTasks() {
  std::FILE* file = std::fopen("/proc/loadavg", "re");
  if (!file) return -1;
  double load1, load5, load15;
  int running = -1, total = 0;
  if (std::fscanf(file, "%lf %lf %lf %d/%d", &load1, &load5, &load15, &running, &total) != 5) running = -1;
  std::fclose(file);
  return running;
}

// Whether the cores could take `threads` of ours now: at a batch's end, the worker thread is the
// only one of this process that runs (the JavaScript thread waits for its answer).
bool roomForThreads(int threads) {
  static const int cpus = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  }();
  const int running = runnableTasks();
  return running >= 0 && running - 1 + threads <= cpus;
}

// Contended: the worker thread waited for a core more than kContendedWait of its recent batches'
// time. Then it leaves that state only when the machine shows room for its threads
// (kQuietBatchesToLeave batches in a row): on one thread its waits say little (the scheduler
// favours a thread that slept), and a batch on two threads beside two busy processes took 300 ms.
void noteBatch(double wall, double waited, int configured) {
  recentCpuWait = 0.9 * recentCpuWait + 0.1 * std::clamp(waited / wall, 0.0, 1.0);
  if (!contended) {
    contended = recentCpuWait > kContendedWait;
    quietBatches = 0;
  } else if (!roomForThreads(configured)) {
    quietBatches = 0;
  } else if (++quietBatches >= kQuietBatchesToLeave) {
    contended = false;
    recentCpuWait = 0.0;
  }
}

}  // namespace

int intraOpThreadsForBatch(int configured, int64_t tokens) {
  if (configured <= 1 || tokens > kSmallBatchTokens) return configured;
  return contended ? 1 : configured;
}

// omp_set_num_threads, not at::set_num_threads, which also rebuilds libtorch's pthreadpool (its
// threads are made again on every change: 5 ms a batch).
BatchThreads::BatchThreads(bool onCpu, int64_t tokens)
    : onCpu_(onCpu), previous_(omp_get_max_threads()), startWall_(wallSeconds()), startWait_(onCpu ? secondsWaitingForCpu() : -1) {
  if (!onCpu_) return;
  const int threads = intraOpThreadsForBatch(previous_, tokens);
  if (threads != previous_) omp_set_num_threads(threads);
}

BatchThreads::~BatchThreads() {
  if (!onCpu_) return;
  const double wall = wallSeconds() - startWall_;
  const double waited = secondsWaitingForCpu() - startWait_;
  if (wall > 0 && startWait_ >= 0) noteBatch(wall, waited, previous_);
  if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
}

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
