// Pooled allocation for message nodes, actor blocks and coroutine frames.
//
// Small blocks (up to 512 bytes) come from per-thread free lists, one per 16-byte size class;
// threads exchange whole batches with a process-wide depot, so a block freed on another thread
// than the one that allocated it (every message) costs one list push. Built with AddressSanitizer,
// the pool steps aside and every block is a plain new/delete, so use-after-free and leaks are seen.
#pragma once

#include <cstddef>
#include <new>

namespace troupe::runtime {

void* pool_allocate(std::size_t bytes);
void pool_free(void* block, std::size_t bytes) noexcept;

// Per-thread cache statistics, for tests and benchmarks.
struct PoolStats {
  std::size_t slabs_allocated;  // process-wide
  std::size_t batches_returned;  // batches of free blocks that threads handed to the shared depot
};
PoolStats pool_stats() noexcept;

// Base for types allocated from the pool with `new`/`delete`.
struct Pooled {
  static void* operator new(std::size_t bytes) { return pool_allocate(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept { pool_free(block, bytes); }
};

}  // namespace troupe::runtime
