// Pooled allocation for message nodes, actor blocks and coroutine frames.
//
// Small blocks (up to 512 bytes) come from per-thread free lists, one per size class (below);
// threads exchange whole batches with a process-wide depot, so a block freed on another thread
// than the one that allocated it (every message) costs one list push. Built with AddressSanitizer,
// the pool steps aside and every block is a plain new/delete, so use-after-free and leaks are seen.
//
// The common case, a block taken from or given back to the thread's own list, is inline here:
// every message is one allocation and one free, and at a call site the size is most often a
// constant, so the size class folds away (out of line, the two calls were about 55 of the 470
// instructions of a hop around a ring of actors). The rest (refilling, handing batches back,
// the depot) is in pool.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TROUPE_POOL_BYPASS 1
#endif

namespace troupe::runtime {

namespace pool_detail {

// Size classes: 16, 24, then every multiple of 16 up to 512. The 24-byte class is a message with
// a payload of 8 bytes or less (a link, a type word and the value: the most common message, from
// a counter to a sequence number), which the next class up would pad by a third. Its blocks are
// 8-aligned, which is all such an object can need: one that needs 16 is 16 or 32 bytes long.
// (A flood of 4 million such messages held 128 MiB in 32-byte blocks; the kernel's populating
// of those fresh pages was most of its senders' time.)
inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kMaxPooled = 512;
inline constexpr std::size_t kClasses = kMaxPooled / kGranule + 1;
// A thread keeps at most this many bytes of free blocks of one class (and at least 128 blocks):
// a sender and a receiver on one worker pass their messages' blocks back and forth without the
// depot. (A fresh slab, up to 2 MiB, goes whole to the thread that carves it; what that thread
// has not used goes back kBatch blocks at each of its frees past the bound.)
inline constexpr std::size_t kThreadCacheBytes = 64 * 1024;
// At its bound, a thread hands this many blocks back to the depot at once: the ones it freed
// last. A thread gets there by freeing more than it allocates (a receiver of messages on one
// worker, their senders on another), so the blocks go round between the two in small batches
// whose lines are still in a cache when they are used again. (Handing back half the bound at
// once, 1,024 blocks of 32 bytes, made pingpong-4 10-17% slower: each allocation then missed.)
inline constexpr std::uint32_t kBatch = 64;
inline constexpr std::size_t kMinSpillAt = 2 * kBatch;

constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return bytes <= 16 ? 0 : bytes <= 24 ? 1 : (bytes + kGranule - 1) / kGranule;
}
constexpr std::size_t size_of_class(std::size_t c) noexcept { return c == 0 ? 16 : c == 1 ? 24 : c * kGranule; }
static_assert(class_of(kMaxPooled) == kClasses - 1 && size_of_class(class_of(24)) == 24 &&
              size_of_class(class_of(25)) == 32 && size_of_class(class_of(kMaxPooled)) == kMaxPooled);
constexpr std::uint32_t spill_threshold(std::size_t c) noexcept {
  return static_cast<std::uint32_t>(std::max<std::size_t>(kMinSpillAt, kThreadCacheBytes / size_of_class(c)));
}
inline constexpr auto kSpillAt = [] {
  std::array<std::uint32_t, kClasses> at{};
  for (std::size_t c = 0; c < kClasses; ++c) at[c] = spill_threshold(c);
  return at;
}();
// The kBatch blocks handed back are the top of the list down to the block a free put at this
// height (counted from the bottom of the list). That block is remembered, so that the cut is a
// store, not a walk of kBatch links (a flooded receiver spent 6% of its time on that walk). It is
// still that block when the list reaches kSpillAt: the list only gets there by frees past this
// height, and if it shrank below it meanwhile, the free that brought it back up remembered the
// block that is there now; after a cut the list is just below it again. A refill starts the list
// above height one, so it forgets the mark (the next cut walks).
constexpr std::uint32_t cut_height(std::size_t c) noexcept { return kSpillAt[c] - kBatch + 1; }

struct FreeBlock {
  FreeBlock* next;
};

// The calling thread's free lists. Zero at thread start (constinit: no guard on any access) and
// trivially destructible; a thread is registered at its first refill or free (pool.cpp), and
// what it holds goes back to the depot when it ends.
struct ThreadCache {
  std::array<FreeBlock*, kClasses> head;
  std::array<std::uint32_t, kClasses> count;
  std::array<FreeBlock*, kClasses> cut_mark;  // the block at cut_height(c), or nullptr
  bool registered;
};
inline constinit thread_local ThreadCache tls_cache{};

// Out of line (pool.cpp): the list of class `c` is empty; takes a batch from the depot or carves
// a slab, and returns one block of it.
void* refill_and_allocate(std::size_t c);
// Out of line: the freed block is pushed already and the list reached its bound (or the thread is
// not registered yet): registers, and hands kBatch blocks back to the depot.
void after_free_slow(std::size_t c) noexcept;
void* allocate_unpooled(std::size_t bytes);
void free_unpooled(void* block, std::size_t bytes) noexcept;

}  // namespace pool_detail

inline void* pool_allocate(std::size_t bytes) {
#ifdef TROUPE_POOL_BYPASS
  return pool_detail::allocate_unpooled(bytes);
#else
  using namespace pool_detail;
  if (bytes > kMaxPooled) return allocate_unpooled(bytes);
  const std::size_t c = class_of(bytes);
  ThreadCache& cache = tls_cache;
  FreeBlock* block = cache.head[c];
  if (block == nullptr) [[unlikely]]
    return refill_and_allocate(c);
  cache.head[c] = block->next;
  --cache.count[c];
  return block;
#endif
}

inline void pool_free(void* block, std::size_t bytes) noexcept {
#ifdef TROUPE_POOL_BYPASS
  if (block != nullptr) pool_detail::free_unpooled(block, bytes);
#else
  using namespace pool_detail;
  if (block == nullptr) return;
  if (bytes > kMaxPooled) {
    free_unpooled(block, bytes);
    return;
  }
  const std::size_t c = class_of(bytes);
  ThreadCache& cache = tls_cache;
  auto* freed = static_cast<FreeBlock*>(block);
  freed->next = cache.head[c];
  cache.head[c] = freed;
  const std::uint32_t height = ++cache.count[c];
  if (height == cut_height(c)) [[unlikely]]
    cache.cut_mark[c] = freed;
  if (height >= kSpillAt[c] || !cache.registered) [[unlikely]]
    after_free_slow(c);
#endif
}

// Per-thread cache statistics, for tests and benchmarks.
struct PoolStats {
  std::size_t slabs_allocated;  // process-wide
  std::size_t batches_returned;  // batches of free blocks that threads handed to the shared depot
  std::size_t blocks_returned;   // the blocks in them
};
PoolStats pool_stats() noexcept;

// Base for types allocated from the pool with `new`/`delete`.
struct Pooled {
  static void* operator new(std::size_t bytes) { return pool_allocate(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept { pool_free(block, bytes); }
};

}  // namespace troupe::runtime
