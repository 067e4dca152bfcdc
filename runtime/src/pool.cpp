// The pool's slow paths and its process-wide depot (the fast paths are inline in pool.hpp).
#include <troupe/runtime/pool.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace troupe::runtime {
namespace {

// Blocks that do not come from the slabs (large ones, or all under ASan) come from operator new,
// which only guarantees __STDCPP_DEFAULT_NEW_ALIGNMENT__. A type's alignment divides its size, so
// the lowest set bit of `bytes` bounds what the block may need; up to a cache line, we ask for it.
// (Slab blocks need nothing more: slabs are page-aligned and a class's blocks sit at multiples of
// its size.)
constexpr std::size_t kMaxAlign = 64;
constexpr std::size_t alignment_for(std::size_t bytes) noexcept {
  const std::size_t lowest_bit = bytes & (~bytes + 1);
  return lowest_bit == 0 || lowest_bit > kMaxAlign ? kMaxAlign : lowest_bit;
}

}  // namespace

namespace pool_detail {

void* allocate_unpooled(std::size_t bytes) {
  const std::size_t align = alignment_for(bytes);
  if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
  return ::operator new(bytes, std::align_val_t{align});
}
void free_unpooled(void* p, std::size_t bytes) noexcept {
  const std::size_t align = alignment_for(bytes);
  if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
    ::operator delete(p, bytes);
  } else {
    ::operator delete(p, bytes, std::align_val_t{align});
  }
}

}  // namespace pool_detail

#ifndef TROUPE_POOL_BYPASS
namespace {

using namespace pool_detail;

// Slabs of one size class grow from 64 KiB to 2 MiB, so a small program stays small and a big one
// asks the kernel for memory rarely. Each slab is populated in one mmap call. (Transparent huge
// pages were tried and dropped: on our VMs the kernel's zeroing of fresh 2 MiB pages made fan-in
// 2.5x slower — bench/RESULTS.md.)
constexpr std::size_t kFirstSlabBytes = 64 * 1024;
constexpr std::size_t kMaxSlabBytes = 2 * 1024 * 1024;

// A chain of free blocks of one class, and how many.
struct Batch {
  FreeBlock* head = nullptr;
  std::uint32_t count = 0;
};

// Process-wide store of batches. A thread visits it when its list of a class runs empty, or
// reaches its bound (pool.hpp, kSpillAt), and hands back kBatch blocks. A batch is most often
// kBatch blocks; a thread that ends hands back what it holds of a class in one.
class Depot {
 public:
  ~Depot() {
    for (const Slab& slab : slabs_) munmap(slab.base, slab.bytes);
  }

  Batch take_batch(std::size_t c) {
    std::lock_guard lock(mutex_);
    auto& batches = batches_[c];
    if (batches.empty()) return {};
    const Batch batch = batches.back();
    batches.pop_back();
    return batch;
  }

  void put_batch(std::size_t c, Batch batch) {
    std::lock_guard lock(mutex_);
    batches_[c].push_back(batch);
    ++batches_returned_;
    blocks_returned_ += batch.count;
  }

  // Carves a fresh slab into a chain of blocks of class c, all for the thread that asked: it uses
  // them in address order before it comes back. (Cut into chains of half a thread's bound and
  // shared through the batches, fan-in was 9% slower: the senders then took the sink's freed
  // blocks back sooner, lines still in the sink's core.) Its frees past its bound hand back what
  // it has not used, kBatch blocks at a time (spill).
  Batch carve_slab(std::size_t c) {
    const std::size_t size = size_of_class(c);
    std::size_t bytes;
    {
      std::lock_guard lock(mutex_);
      bytes = next_slab_bytes_[c] == 0 ? kFirstSlabBytes : next_slab_bytes_[c];
      next_slab_bytes_[c] = std::min(bytes * 2, kMaxSlabBytes);
    }
    void* slab = map_slab(bytes);
    {
      std::lock_guard lock(mutex_);
      slabs_.push_back(Slab{slab, bytes});
    }
    const std::size_t n = bytes / size;
    auto* base = static_cast<char*>(slab);
    FreeBlock* head = nullptr;
    for (std::size_t i = n; i-- > 0;) {
      auto* block = reinterpret_cast<FreeBlock*>(base + i * size);
      block->next = head;
      head = block;
    }
    return Batch{head, static_cast<std::uint32_t>(n)};
  }

  // MAP_POPULATE: one call faults the whole slab in, instead of one page fault per 4 KiB.
  static void* map_slab(std::size_t bytes) {
    void* slab = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (slab == MAP_FAILED) throw std::bad_alloc();
    return slab;
  }

  PoolStats stats() {
    std::lock_guard lock(mutex_);
    return PoolStats{slabs_.size(), batches_returned_, blocks_returned_};
  }

 private:
  std::mutex mutex_;
  struct Slab {
    void* base;
    std::size_t bytes;
  };
  std::array<std::vector<Batch>, kClasses> batches_;
  std::array<std::size_t, kClasses> next_slab_bytes_{};
  std::vector<Slab> slabs_;
  std::size_t batches_returned_ = 0;
  std::size_t blocks_returned_ = 0;
};

Depot& depot() {
  static Depot instance;
  return instance;
}

// Returns a thread's blocks to the depot when the thread ends.
struct CacheReturner {
  ~CacheReturner() {
    ThreadCache& cache = tls_cache;
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (cache.head[c] != nullptr) depot().put_batch(c, Batch{cache.head[c], cache.count[c]});
      cache.head[c] = nullptr;
      cache.count[c] = 0;
      cache.cut_mark[c] = nullptr;
    }
  }
};

void register_thread() {
  thread_local CacheReturner returner;
  (void)returner;
  tls_cache.registered = true;
}

// The list of class c reached its bound: hands back its top kBatch blocks, those freed last,
// down to the cut mark (pool.hpp, cut_height), or where the mark is not known (the list was refilled
// above its height), down to the block found kBatch links from the top.
void spill(std::size_t c) {
  ThreadCache& cache = tls_cache;
  FreeBlock* lowest_handed = cache.cut_mark[c];
  std::uint32_t handed = cache.count[c] - (cut_height(c) - 1);
  if (lowest_handed == nullptr) {
    handed = kBatch;
    lowest_handed = cache.head[c];
    for (std::uint32_t i = 1; i < kBatch; ++i) lowest_handed = lowest_handed->next;
  }
  const Batch batch{cache.head[c], handed};
  cache.head[c] = lowest_handed->next;
  lowest_handed->next = nullptr;
  cache.count[c] -= handed;
  cache.cut_mark[c] = nullptr;
  depot().put_batch(c, batch);
}

}  // namespace

namespace pool_detail {

void* refill_and_allocate(std::size_t c) {
  ThreadCache& cache = tls_cache;
  if (!cache.registered) register_thread();
  Batch batch = depot().take_batch(c);
  if (batch.head == nullptr) batch = depot().carve_slab(c);
  cache.head[c] = batch.head->next;
  cache.count[c] = batch.count - 1;
  cache.cut_mark[c] = nullptr;  // the list now starts at this height, not from one (pool.hpp)
  return batch.head;
}

void after_free_slow(std::size_t c) noexcept {
  ThreadCache& cache = tls_cache;
  if (!cache.registered) register_thread();
  if (cache.count[c] >= kSpillAt[c]) spill(c);
}

}  // namespace pool_detail
#endif

PoolStats pool_stats() noexcept {
#ifdef TROUPE_POOL_BYPASS
  return PoolStats{0, 0, 0};
#else
  return depot().stats();
#endif
}

}  // namespace troupe::runtime
