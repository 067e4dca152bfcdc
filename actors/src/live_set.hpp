// Every actor of a system that has not stopped, so shutdown can reach the idle ones. Sharded by
// address, each shard a short mutex-guarded intrusive list: spawn and stop touch one shard.
#pragma once

#include <troupe/actor_cell.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace troupe::detail {

class LiveSet {
 public:
  void insert(ActorCell* actor) {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    LiveLinks& links = actor->live_links();
    links.prev = nullptr;
    links.next = s.head;
    if (s.head != nullptr) s.head->live_links().prev = actor;
    s.head = actor;
    // Relaxed: a statistic; updated under the shard lock.
    s.count.fetch_add(1, std::memory_order_relaxed);
  }

  void erase(ActorCell* actor) {
    Shard& s = shard_of(actor);
    std::lock_guard lock(s.mutex);
    LiveLinks& links = actor->live_links();
    if (links.prev != nullptr) {
      links.prev->live_links().next = links.next;
    } else {
      s.head = links.next;
    }
    if (links.next != nullptr) links.next->live_links().prev = links.prev;
    links = {};
    s.count.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as in insert
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
  struct alignas(64) Shard {
    std::mutex mutex;
    ActorCell* head = nullptr;
    std::atomic<std::size_t> count{0};
  };
  Shard& shard_of(const ActorCell* actor) noexcept {
    const auto bits = reinterpret_cast<std::uintptr_t>(actor);
    return shards_[(bits >> 6) % kShards];
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace troupe::detail
