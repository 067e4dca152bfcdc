#include "deterministic_driver.hpp"

#include <troupe/system.hpp>

namespace troupe::detail {

DriveOutcome drive(runtime::DeterministicScheduler& scheduler, runtime::TimerService& timers,
                   const std::function<bool()>& done, runtime::TimerService::Clock::time_point deadline,
                   bool background_counts) {
  for (;;) {
    // One turn at a time, checking done() between turns: a waiter's message ends the wait at
    // once, as it would in the threaded system, whatever other actors still have to do.
    if (done && done()) return DriveOutcome::done;
    if (scheduler.run_one()) continue;
    const auto due = timers.next_due(background_counts);
    if (!due) return DriveOutcome::idle;
    if (*due > deadline) return DriveOutcome::deadline;
    // Fires the earliest pending timer: the counted one, or a background one due before it.
    timers.fire_next(*due);
  }
}

void RunUntilRoom::wait_for_room(runtime::MailboxLimit& limit) {
  system_.run_until([&limit] { return limit.has_room(); }, runtime::TimerService::Clock::time_point::max());
}

}  // namespace troupe::detail
