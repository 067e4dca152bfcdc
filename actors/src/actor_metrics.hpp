// The per-type counters behind MetricsSnapshot::actor_types and ::mailboxes that are not kept by
// the live set (live_set.hpp: live actors, spawns, exits, messages handled): the sampled handling
// times, the restarts, and the board of the deepest mailboxes. They are counted on rare paths
// only, per thread, and summed when a snapshot is taken: a worker thread counts into a slot of
// its own with plain stores (one writer), every other thread (blocking actors, scoped actors, the
// deterministic driver) into one shared slot with atomic adds.
//
// Handling times are sampled: the executors mark about one turn in 1024 of each thread as
// sampled (ActorCore::resume_sampled; the gaps vary, turn_sampler.hpp), and the actor times every
// message of that turn, which costs the other turns nothing instead of two clock reads per
// message. The same turns, when they leave messages waiting, count them (report_depth) for the
// board.
#pragma once

#include <troupe/actor_type_id.hpp>
#include <troupe/metrics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace troupe::detail {

class ActorMetrics {
 public:
  // Worker indices at or past this count into the shared slot.
  static constexpr unsigned kMaxWorkerSlots = 256;

  ActorMetrics();
  ~ActorMetrics();
  ActorMetrics(const ActorMetrics&) = delete;
  ActorMetrics& operator=(const ActorMetrics&) = delete;

  void record_handling(ActorTypeId type, std::chrono::nanoseconds took) noexcept;
  void count_restart(ActorTypeId type) noexcept;
  // A sampled turn of `actor` left `depth` messages waiting (`at_least`: counted up to a limit).
  void report_depth(ActorTypeId type, const void* actor, std::uint64_t depth, bool at_least) noexcept;
  // A sampled turn of `actor` drained its mailbox: off the board, if it is there.
  void drained(const void* actor) noexcept {
    // Relaxed: a hint that spares the lock while the board is empty (it nearly always is); a
    // stale answer leaves an entry until the window passes.
    if (depth_entries_.load(std::memory_order_relaxed) != 0) [[unlikely]]
      forget_depth(actor);
  }

  // Adds the handling times and restarts to `types` (indexed by type id), and the deepest
  // mailboxes of the last kDepthWindow to `snapshot`.
  void collect(std::vector<ActorTypeMetrics>& types, MetricsSnapshot& snapshot) const;

 private:
  using Counter = std::atomic<std::uint64_t>;
  // One type's counts, on one slot.
  struct TypeRow {
    Counter restarts{0};
    std::array<Counter, handling_time_buckets.size() + 1> handling{};
    Counter handling_ns{0};
  };
  static constexpr std::size_t kRowsPerChunk = 64;
  struct Chunk {
    std::array<TypeRow, kRowsPerChunk> rows;
  };
  struct Slot {
    // Allocated on first use, by a writer; never freed before the slot (acquire/release).
    std::array<std::atomic<Chunk*>, kMaxActorTypes / kRowsPerChunk> chunks{};
    ~Slot();
    TypeRow& row(ActorTypeId type) noexcept;  // nullptr-safe: see row()
    const TypeRow* find_row(ActorTypeId type) const noexcept;
  };
  // The slot this thread counts into for this system, found once (bind) and kept per thread.
  // Keyed by the metrics' serial number, not their address, which a later system may reuse.
  struct Binding {
    std::uint64_t owner = 0;
    Slot* slot = nullptr;
    bool shared = false;  // the shared slot: atomic adds
  };

  Binding& bound() noexcept {
    if (binding_.owner != serial_) [[unlikely]]
      bind();
    return binding_;
  }
  void bind() noexcept;
  // Relaxed: statistics, read on their own. A worker's slot has one writer at a time (a
  // compensating thread that takes over an index starts after the last one ended).
  static void add(const Binding& b, Counter& counter, std::uint64_t n) noexcept {
    if (b.shared) [[unlikely]] {
      counter.fetch_add(n, std::memory_order_relaxed);
    } else {
      counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
  }
  TypeRow* row_of(ActorTypeId type) noexcept;  // nullptr when out of memory

  static thread_local Binding binding_;

  const std::uint64_t serial_;  // unique in the process, never 0
  std::array<std::atomic<Slot*>, kMaxWorkerSlots> worker_slots_{};
  std::unique_ptr<Slot> shared_slot_;

  // The deepest mailboxes seen lately: a few entries, updated on sampled turns only.
  static constexpr std::size_t kDepthEntries = 10;
  static constexpr std::chrono::seconds kDepthWindow{5};
  struct DepthEntry {
    const void* actor = nullptr;
    ActorTypeId type = 0;
    std::uint64_t depth = 0;
    bool at_least = false;
    std::chrono::steady_clock::time_point seen{};
  };
  void forget_depth(const void* actor) noexcept;
  mutable std::mutex depth_mutex_;
  std::array<DepthEntry, kDepthEntries> deepest_{};
  std::atomic<unsigned> depth_entries_{0};  // entries in use; written under the mutex
};

}  // namespace troupe::detail
