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

// Unmaps the free blocks and forgets the largest one given back: a model load frees copies of its
// weights (read, stacked, packed) that no batch will ask for again, and would leave the cache sized
// by them.
void trimCachedCpuBlocks();

}  // namespace bert_embed
