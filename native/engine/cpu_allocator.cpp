#include "engine/cpu_allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <map>
#include <unordered_map>
#include <mutex>
#include <string>

namespace bert_embed {
namespace {

constexpr size_t kSmallest = 256 * 1024;
// At least 64 MiB of free blocks: on STS-B that kept the speed of glibc's heaps at 0.85× their peak
// RSS (32 MiB cost 10% of the speed); BENCHMARKS.md.
constexpr size_t kMinCachedBytes = 64 * 1024 * 1024;

// Blocks are powers of two, so a block serves every request between half its size and its size:
// batches grow in length through a length-sorted pass, and finer classes missed (and faulted in
// new pages) at every step.
size_t sizeClass(size_t bytes) {
  size_t size = kSmallest;
  while (size < bytes) size *= 2;
  return size;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  static CachingCpuAllocator& instance();

  // libtorch 1.x declares allocate const and 2.x does not: each overrides the one its base has.
  c10::DataPtr allocate(size_t bytes) const {
    // The context is the address itself, as raw_allocate (used inside libtorch) requires.
    void* data = bytes < kSmallest ? c10::alloc_cpu(bytes) : take(sizeClass(bytes));
    return {data, data, &CachingCpuAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DataPtr allocate(size_t bytes) { return std::as_const(*this).allocate(bytes); }

  // Pure virtual in libtorch 2.x (absent in 1.x): the blocks are plain memory.
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::release; }

  void pause() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++pauses_;
    unmapFreeBlocks();
  }

  void resume() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--pauses_ > 0) return;
    unmapFreeBlocks();
    largestReleased_ = 0;
  }

 private:
  // Callers hold mutex_.
  void unmapFreeBlocks() const {
    for (auto& [size, block] : free_) munmap(block, size);
    free_.clear();
    cachedBytes_ = 0;
  }

  void* take(size_t bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    void* address = nullptr;
    auto found = free_.find(bytes);
    if (found != free_.end()) {
      address = found->second;
      free_.erase(found);
      cachedBytes_ -= bytes;
    } else {
      address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (address == MAP_FAILED) {
        // Give the cache back and try once more before failing as torch's own allocator would.
        unmapFreeBlocks();
        address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        TORCH_CHECK(address != MAP_FAILED, "DefaultCPUAllocator: can't allocate memory: you tried to allocate ", bytes, " bytes.");
      }
    }
    inUse_.emplace(address, bytes);
    return address;
  }

  static void release(void* address) {
    auto& self = instance();
    size_t bytes = 0;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      auto found = self.inUse_.find(address);
      if (found != self.inUse_.end()) {
        bytes = found->second;
        self.inUse_.erase(found);
        // Room for four of the largest blocks given back so far: a batch's working set grows with
        // its size (maxBatchSize 128 has blocks of 64 MiB), and a smaller cache faults it in anew.
        if (self.pauses_ == 0) {
          self.largestReleased_ = std::max(self.largestReleased_, bytes);
          if (self.cachedBytes_ + bytes <= std::max(kMinCachedBytes, 4 * self.largestReleased_)) {
            self.free_.emplace(bytes, address);
            self.cachedBytes_ += bytes;
            return;
          }
        }
      }
    }
    if (bytes == 0) c10::free_cpu(address);  // a small block, from c10's allocator
    else munmap(address, bytes);
  }

  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, size_t> inUse_;     // mapped blocks handed out, by address
  mutable std::multimap<size_t, void*> free_;           // mapped blocks kept for reuse, by size
  mutable size_t cachedBytes_ = 0;
  mutable size_t largestReleased_ = 0;
  int pauses_ = 0;  // model loads in progress (CpuBlockCachePause)
};

CachingCpuAllocator& CachingCpuAllocator::instance() {
  // Never destroyed: tensors may be freed during static destruction at exit.
  static auto* allocator = new CachingCpuAllocator();
  return *allocator;
}

}  // namespace

CpuBlockCachePause::CpuBlockCachePause() { CachingCpuAllocator::instance().pause(); }
CpuBlockCachePause::~CpuBlockCachePause() { CachingCpuAllocator::instance().resume(); }

void installCachingCpuAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* setting = std::getenv("BERT_EMBED_CPU_ALLOCATOR");
    if (setting && std::string(setting) == "0") return;
    // Above the default allocator's priority (0), so libtorch keeps ours.
    c10::SetCPUAllocator(&CachingCpuAllocator::instance(), 1);
  });
}

}  // namespace bert_embed
