// A bounded Chase–Lev work-stealing deque of actors, one per worker (after Lê, Pop, Cohen and
// Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models", PPoPP 2013).
//
// The owner pushes at the bottom. Everyone — thieves and the owner itself — takes from the top,
// so each worker's queue is FIFO: an actor re-queued after spending its budget waits behind every
// other ready actor, which is what makes the budget a fairness guarantee. Locality for the actor
// just woken comes from the worker's LIFO slot instead (as in Tokio and Go).
#pragma once

#include <troupe/runtime/actor_core.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace troupe::runtime::detail {

class WorkStealingDeque {
 public:
  static constexpr std::size_t capacity = 256;

  // Owner only. False when full: the caller sends the actor to the injection queue instead.
  bool push(ActorCore* actor) noexcept {
    // Relaxed: only the owner writes bottom_.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // Acquire: pairs with the CAS on top_ in take, so a slot a thief has taken is free to reuse.
    const std::int64_t t = top_.load(std::memory_order_acquire);
    if (b - t >= static_cast<std::int64_t>(capacity)) return false;
    // Relaxed store, published by the release store of bottom_ below.
    slots_[static_cast<std::size_t>(b) & (capacity - 1)].store(actor, std::memory_order_relaxed);
    // Release: pairs with the acquire load of bottom_ in take; a taker that sees the new
    // bottom also sees the slot.
    bottom_.store(b + 1, std::memory_order_release);
    return true;
  }

  // Any thread. The oldest actor, or nullptr when empty or when another taker won the race.
  //
  // Chase–Lev's owner pop from the bottom races with steals for the last element and needs a
  // seq_cst fence on both sides; nobody pops from the bottom here (bottom only grows), so
  // acquire/release suffices: slot t was published before any bottom > t we can read, and the
  // owner reuses slot t only after top has moved past t, which makes our CAS below fail.
  ActorCore* take() noexcept {
    // Acquire: pairs with the CAS of an earlier taker (we see the slots it saw).
    std::int64_t t = top_.load(std::memory_order_acquire);
    // Acquire: pairs with push's release store of bottom_.
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return nullptr;
    // Relaxed: the slot was published by push's release store, which we acquired via bottom_.
    ActorCore* actor = slots_[static_cast<std::size_t>(t) & (capacity - 1)].load(std::memory_order_relaxed);
    // Acq_rel on success: the single point where takers agree who owns slot t; release lets the
    // owner's acquire load of top_ in push know the slot is free again.
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      return nullptr;
    }
    return actor;
  }

  // Any thread; a hint only (used before parking, with a fence before it).
  bool maybe_nonempty() const noexcept {
    // Relaxed: a hint; the parking protocol's seq_cst fence orders it.
    return bottom_.load(std::memory_order_relaxed) > top_.load(std::memory_order_relaxed);
  }

 private:
  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::array<std::atomic<ActorCore*>, capacity> slots_{};
};

}  // namespace troupe::runtime::detail
