// Every actor of a system that has not stopped, so shutdown can reach the idle ones. Sharded by
// address, each shard a short mutex-guarded intrusive list: spawn and stop touch one shard.
//
// Each shard also keeps, per actor type, what its actors did: stopped (by reason kind),
// and the messages handled by those that stopped or folded their count (ActorCell::
// count_handled). Counted under the lock that spawn and stop take anyway, and read under it with
// the live actors' unfolded counts (collect), so that a snapshot counts every message once and
// the totals never go down from one snapshot to the next. Each shard keeps those counts in a lane
// per worker thread (and one for every other thread): all of them are written under the shard's
// lock, but a worker's lane stays in its own cache, so that stops do not pass a line of counts
// between cores (a stop already passes the lock's).
#pragma once

#include <troupe/actor_cell.hpp>
#include <troupe/metrics.hpp>
#include <troupe/runtime/scheduler.hpp>

#include "make_or_null.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace troupe::detail {

class LiveSet {
 public:
  // A new actor, before its creator starts it: whoever walks the set (for_each) may read an
  // actor's name and counts, but must not push to it or change its flags until it has started
  // (ActorCore::started).
  void insert(ActorCell* actor) {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    LiveLinks& links = actor->live_links();
    links.prev = nullptr;
    links.next = s.head;
    if (s.head != nullptr) s.head->live_links().prev = actor;
    s.head = actor;
    // Relaxed: a statistic, read without the lock (size()). Written only under the shard lock, so
    // a load and a store, not a locked add: every spawn and stop paid one.
    s.count.store(s.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  void erase(ActorCell* actor, ExitReason::Kind why) {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    if (TypeTotals* t = s.totals_of(actor->type_id())) {
      t->messages += actor->take_unfolded_messages();
      if (const auto k = static_cast<std::size_t>(why); k < exit_reason_kinds) ++t->exits[k];
    }
    LiveLinks& links = actor->live_links();
    if (links.prev != nullptr) {
      links.prev->live_links().next = links.next;
    } else {
      s.head = links.next;
    }
    if (links.next != nullptr) links.next->live_links().prev = links.prev;
    links = {};
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);  // as in insert
  }

  // The owner of `actor`, whose count of unfolded messages would pass 65,535: `sum` goes to its
  // type's total.
  void fold(ActorCell* actor, std::uint64_t sum) noexcept {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    (void)actor->take_unfolded_messages();
    if (TypeTotals* t = s.totals_of(actor->type_id())) t->messages += sum;
  }

  // Per type: live actors, exits, messages handled (spawns: live + stopped); indexed by type id.
  struct TypeCounts {
    std::uint64_t live = 0;
    std::uint64_t messages = 0;
    ExitCounts exits{};
  };
  // Adds every shard's counts to `counts` (one shard at a time, under its lock; it walks the
  // shard's live actors, so spawns and stops there wait for it).
  void collect(std::vector<TypeCounts>& counts) {
    counts.resize(kMaxActorTypes);
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      for (ActorCell* a = s.head; a != nullptr; a = a->live_links().next) {
        TypeCounts& c = counts[a->type_id()];
        ++c.live;
        c.messages += a->unfolded_messages();
      }
      for (const auto& lane : s.totals) {
        for (std::size_t chunk = 0; chunk < lane.size(); ++chunk) {
          if (!lane[chunk]) continue;
          for (std::size_t i = 0; i < kTypesPerChunk; ++i) {
            const TypeTotals& t = (*lane[chunk])[i];
            TypeCounts& c = counts[chunk * kTypesPerChunk + i];
            c.messages += t.messages;
            for (std::size_t k = 0; k < exit_reason_kinds; ++k) c.exits[k] += t.exits[k];
          }
        }
      }
    }
  }

  // Whether `actor` is in the set: spawned by this system and not yet stopped (actor_exited
  // erases it). The answer can go stale at once; the registry asks under a lock that
  // actor_exited takes after the erase (see registry.cpp).
  bool contains(const ActorCell* actor) {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    // A member is the head of its shard's list or has a predecessor; erase() clears the links.
    return s.head == actor || const_cast<ActorCell*>(actor)->live_links().prev != nullptr;
  }

  // Calls f(actor) for every live actor, each under its shard's lock (so it cannot stop meanwhile).
  template <class F>
  void for_each(F&& f) {
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      for (ActorCell* a = s.head; a != nullptr; a = a->live_links().next) f(a);
    }
  }

  std::size_t size() const noexcept {
    std::size_t n = 0;
    // Relaxed: an approximate sum is all callers need; shutdown re-checks after quiescence.
    for (const Shard& s : shards_) n += s.count.load(std::memory_order_relaxed);
    return n;
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct TypeTotals {
    std::uint64_t messages = 0;
    ExitCounts exits{};
  };
  static constexpr std::size_t kTypesPerChunk = 64;
  using TotalsChunk = std::array<TypeTotals, kTypesPerChunk>;
  // Worker threads 0 .. kLanes - 2 have a lane each; every other thread shares the last.
  static constexpr std::size_t kLanes = 17;
  using Lane = std::array<std::unique_ptr<TotalsChunk>, kMaxActorTypes / kTypesPerChunk>;
  struct alignas(64) Shard {
    std::mutex mutex;
    ActorCell* head = nullptr;
    std::atomic<std::size_t> count{0};
    // Made on first use (a type's first stop in this shard, on this lane); under the mutex.
    std::array<Lane, kLanes> totals;
    // The calling thread's lane. nullptr when out of memory: that count is lost, not the stop.
    TypeTotals* totals_of(ActorTypeId type) noexcept {
      // -1 (no worker) becomes the largest unsigned, so other threads share the last lane.
      const std::size_t lane =
          std::min<std::size_t>(static_cast<unsigned>(runtime::Scheduler::current_worker_index()), kLanes - 1);
      auto& chunk = totals[lane][type / kTypesPerChunk];
      if (!chunk) {
        chunk.reset(make_or_null<TotalsChunk>());
        if (!chunk) return nullptr;
      }
      return &(*chunk)[type % kTypesPerChunk];
    }
  };
  Shard& shard_of(const ActorCell* actor) noexcept {
    const auto bits = reinterpret_cast<std::uintptr_t>(actor);
    return shards_[(bits >> 6) % kShards];
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace troupe::detail
