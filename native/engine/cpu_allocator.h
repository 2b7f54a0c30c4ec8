#pragma once

namespace bert_embed {

// Makes libtorch's CPU tensors of 256 KiB and more come from a bounded cache of mapped blocks.
//
// Freeing a tensor hands its memory back to glibc, which either unmaps it (and the next batch
// faults every page in again: on a VM that made encoding 4× slower) or, once its adaptive mmap
// threshold has risen, keeps it in per-thread heaps where blocks of ever-changing batch shapes
// fragment (peak RSS grew by 150 MiB over one STS-B pass). Blocks here are reused by size class
// (powers of two), and free ones are kept up to 64 MiB or four times the largest block given back,
// whichever is more (so large batches keep their working set too). Smaller tensors still go to
// c10's allocator.
// Installed once, process-wide, unless BERT_EMBED_CPU_ALLOCATOR=0 (kept for comparisons).
void installCachingCpuAllocator();

// For the length of a model load: freed blocks are unmapped instead of cached, and the cache is
// emptied when the last such scope ends. A load frees copies of its weights (read, stacked, packed)
// that no batch asks for again, and they would both raise the load's peak and size the cache
// after them.
class CpuBlockCachePause {
 public:
  CpuBlockCachePause();
  ~CpuBlockCachePause();
  CpuBlockCachePause(const CpuBlockCachePause&) = delete;
  CpuBlockCachePause& operator=(const CpuBlockCachePause&) = delete;
};

}  // namespace bert_embed
