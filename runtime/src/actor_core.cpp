// ActorCore's out-of-line parts: the mute state machine of backpressure (mailbox_limit.hpp).
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox_limit.hpp>

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
    // Release: publishes this turn to the releaser that schedules us (pairs with unmute's
    // acquire), as the mailbox mark would for an idle actor.
  } while (!flags_.compare_exchange_weak(old, static_cast<std::uint8_t>((old & ~kMuteMask) | kParked),
                                         std::memory_order_release, std::memory_order_relaxed));
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

}  // namespace troupe::runtime
