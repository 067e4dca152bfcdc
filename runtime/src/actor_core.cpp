// ActorCore's out-of-line parts: the mute state machine of backpressure (mailbox_limit.hpp) and
// muting on overloaded actors (overload_registry.hpp).
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox_limit.hpp>

#include "overload_registry.hpp"

#include <new>

namespace troupe::runtime {

ActorCore::~ActorCore() { delete limit_; }

bool ActorCore::mute() noexcept {
  // Relaxed: only the owner moves the state away from none, and it is the one running now.
  std::uint8_t old = flags_.load(std::memory_order_relaxed);
  do {
    if ((old & kMuteMask) != 0) return false;  // muted already this turn: registered once is enough
    // Relaxed: the registration that follows (add_muted's seq_cst push) publishes the state.
  } while (!flags_.compare_exchange_weak(old, static_cast<std::uint8_t>(old | kMuted), std::memory_order_relaxed));
  return true;
}

void ActorCore::cancel_mute() noexcept {
  std::uint8_t old = flags_.load(std::memory_order_relaxed);
  // Relaxed: ends our own mute; a releaser that also clears it finds nothing to schedule.
  while ((old & kMuteMask) == kMuted &&
         !flags_.compare_exchange_weak(old, static_cast<std::uint8_t>(old & ~kMuteMask), std::memory_order_relaxed)) {
  }
}

bool ActorCore::park_muted() noexcept {
  std::uint8_t old = flags_.load(std::memory_order_relaxed);  // relaxed: a hint, the CAS decides
  // An actor that holds senders back must keep draining: parking it could close a cycle.
  if (limit_ != nullptr && limit_->has_muted()) return false;
  do {
    if ((old & kMuteMask) != kMuted) return false;  // released meanwhile: run on
    if ((old & kHoldsSenders) != 0) return false;   // senders muted on us (overload_registry.cpp)
    // Seq_cst: publishes this turn to the releaser that schedules us (pairs with unmute's
    // acquire), as the mailbox mark would for an idle actor; and orders the kHoldsSenders check
    // against a sender's seq_cst registration on us, as has_muted() does for a bounded mailbox:
    // in a cycle of muted actors, the last to park sees its predecessor registered on it.
  } while (!flags_.compare_exchange_weak(old, static_cast<std::uint8_t>((old & ~kMuteMask) | kParked),
                                         std::memory_order_seq_cst, std::memory_order_relaxed));
  return true;
}

void ActorCore::unmute() noexcept {
  std::uint8_t old = flags_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
  do {
    if ((old & kMuteMask) == 0) return;
    // Acquire: pairs with park_if_muted's release, so the turn we schedule sees the last one.
  } while (!flags_.compare_exchange_weak(old, static_cast<std::uint8_t>(old & ~kMuteMask), std::memory_order_acquire,
                                         std::memory_order_relaxed));
  if ((old & kMuteMask) == kParked) executor_->schedule(this);
}

void ActorCore::relieve_overload_slow() noexcept {
  // Relaxed: the registry's mutex orders this clear before any sender's later look at the bit
  // (overload_registry.hpp); the bit must be clear before release_all takes the entries.
  flags_.fetch_and(static_cast<std::uint8_t>(~kOverloaded), std::memory_order_relaxed);
  overload::release_all(this);
}

bool ActorCore::mute_on(ActorCore* receiver) noexcept {
  if (!mute()) return muted();  // muted already this turn: registered once is enough
  try {
    overload::add_muted(receiver, this);
  } catch (...) {  // no memory to register: run on unmuted
    cancel_mute();
    return false;
  }
  // Still overloaded after we registered: it will unmute us when it drains. If not, it drained
  // meanwhile; take the registration back unless it took it (and unmutes us) first.
  if (receiver->overloaded()) return true;
  if (overload::withdraw(receiver, this)) cancel_mute();
  return muted();
}

}  // namespace troupe::runtime
