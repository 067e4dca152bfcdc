// Deterministic mode's loop: run ready actors one turn at a time; when none is ready, move the
// virtual clock to the next timer and fire it. Used by System (wait_idle, advance_time, shutdown)
// and by ScopedActor while it waits.
#pragma once

#include <troupe/runtime/deterministic_scheduler.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/timer_service.hpp>

#include <functional>

namespace troupe {
class System;
}

namespace troupe::detail {

enum class DriveOutcome {
  done,      // done() returned true
  idle,      // no actor is ready and no timer that counts is pending
  deadline,  // the next timer that counts falls due after the deadline
};

// Runs until done() (if given), or until nothing is left that could run at or before `deadline`.
// One-shot timers count; background ones (periodic, or an actor's receive timeout) only if
// `background_counts` (they never run out, so a wait for idleness must not count them).
// Background timers due before a counted timer still fire in their place in time.
DriveOutcome drive(runtime::DeterministicScheduler& scheduler, runtime::TimerService& timers,
                   const std::function<bool()>& done, runtime::TimerService::Clock::time_point deadline,
                   bool background_counts);

// How a thread of the caller's own waits for room in a full bounded mailbox of a deterministic
// system: that thread runs every actor, so it runs them until there is room. If nothing can run
// (the receiver waits for something that never comes), it returns, and the message goes over
// capacity. Given to each bounded mailbox at spawn (System::room_waiter).
class RunUntilRoom final : public runtime::RoomWaiter {
 public:
  explicit RunUntilRoom(System& system) noexcept : system_(system) {}
  void wait_for_room(runtime::MailboxLimit& limit) override;

 private:
  System& system_;
};

}  // namespace troupe::detail
