// The hog workload: the task that does not cooperate. hog_tasks small tasks each handle a tick
// every hog_period for hog_duration and record how late each tick was handled (the time from when
// it was due to when its task ran); meanwhile the hogs compute without yielding for hog_burst,
// hog_bursts times, spaced out over the run, all of them at once. There is one hog per worker by
// default (Params::hogs = 0), so that every core (every actor worker) is held: with a core to
// spare, the ticks would need neither the kernel's pre-emption nor troupe's safety net. Every
// model runs the same schedule; what differs is whether the ticks get a CPU while the hogs
// compute. A one-thread model (sequential, event-loop) runs its hogs one after another.
//
// Tick k of every task (k = 0 .. ticks_per_task - 1) is due at start + (k + 1) * period. Burst i
// is centred in the i-th of hog_bursts equal parts of the run.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "workloads.hpp"

namespace contrast {

using HogClock = std::chrono::steady_clock;

struct HogPlan {
  explicit HogPlan(const Params& p);

  unsigned tasks;
  unsigned hogs;                 // Params::hogs, or the workers when that is 0
  std::uint64_t ticks_per_task;  // hog_duration / hog_period, at least 1
  HogClock::duration period;
  HogClock::duration burst;
  unsigned bursts;

  // Since the run's start.
  HogClock::duration tick_due(std::uint64_t k) const { return period * static_cast<std::int64_t>(k + 1); }
  HogClock::duration burst_start(unsigned i) const;
  std::uint64_t expected_ticks() const { return std::uint64_t{tasks} * ticks_per_task; }
};

// Lateness samples, in nanoseconds: one per tick handled (a tick handled before its due time
// counts as on time: two readings of the same clock a few nanoseconds apart).
using LatenessSamples = std::vector<std::int64_t>;

inline std::int64_t lateness_ns(HogClock::time_point due, HogClock::time_point handled) {
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(handled - due).count());
}

// Computes without yielding until `burst` has passed on the clock, calling between() after each
// slice of about ten microseconds (the GIL model's eval-breaker check; a no-op elsewhere). The sum
// passes through opaque(), so the work cannot be optimised away.
template <class Between>
void hog_compute(HogClock::duration burst, Between&& between) {
  const HogClock::time_point end = HogClock::now() + burst;
  std::uint64_t sum = 0;
  std::uint64_t from = 0;
  do {
    for (int i = 0; i < 16; ++i, from += 1024)
      sum += static_cast<std::uint64_t>(sum_of_squares_range(from, from + 1024));
    between();
  } while (HogClock::now() < end);
  opaque(sum);
}

// Checks that every tick of every task was handled and reports the lateness percentiles (sorts
// `samples`).
Outcome check_hog(const Params& p, LatenessSamples& samples);

}  // namespace contrast
