// How the pool reports a stuck turn (SchedulerConfig::stuck_turn): to the on_stuck_turn hook, and
// as a log event ("stuck_turn" when found, "stuck_turn_ended" when it ends).
#pragma once

#include <troupe/runtime/scheduler.hpp>

namespace troupe::runtime::detail {

// On the watchdog thread (found, or ended without rescues) or the turn's worker (ended).
void report_stuck_turn(const SchedulerConfig& config, const StuckTurn& turn) noexcept;

}  // namespace troupe::runtime::detail
