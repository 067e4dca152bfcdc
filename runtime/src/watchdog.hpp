// The safety net for a turn that does not end (after Go's sysmon, with Go's hand-off of a blocked
// thread's processor and Java ForkJoinPool's compensating threads).
//
// A handler is never pre-empted. One that computes for half a second holds its worker that long;
// the actor it woke waits in that worker's LIFO slot, and with every worker held everything stops.
// The watchdog is a thread of the pool that looks at each worker's turn stamp every quarter of
// SchedulerConfig::stuck_turn. A worker seen inside the same turn for longer than stuck_turn is
// stuck, and then:
//   - the actor in its LIFO slot goes to the injection queue (Worker::rescue, again at every
//     look while the turn lasts), and a parked worker is woken for its deque, which others can
//     steal from anyway;
//   - while fewer than `workers` threads can run actors (the stuck ones do not count), a
//     compensating worker thread starts, up to max_compensating_workers at once; each is paired
//     with one stuck turn and retires (handing back its queued actors) when that turn ends;
//   - the turn is counted (SchedulerStats::stuck_turns), reported to on_stuck_turn and logged
//     when found and when it ends (stuck_turn_report.hpp), and traced as a `stuck` span.
// A turn adds only its stamp to the hot path (Worker::run_turn). The watchdog itself sleeps while
// every worker is parked; the first worker to wake wakes it (SchedulerShared::worker_woke).
//
// Where the kernel has no membarrier (process_barrier.hpp), the LIFO slot is not rescued: the
// watchdog still compensates, and retires the compensating worker when it sees the turn end.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace troupe::runtime::detail {

struct SchedulerShared;
class Worker;

class Watchdog {
 public:
  explicit Watchdog(SchedulerShared& shared);  // starts the thread
  ~Watchdog() { stop(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Ends and joins the thread (before the workers are joined: it may start compensating ones).
  void stop() noexcept;

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {  // what the watchdog last saw of one worker
    std::uint64_t stamp = 0;
    Clock::time_point since{};  // when it first saw this stamp
    bool stuck = false;         // counted and reported
    Worker* compensator = nullptr;
  };

  void run() noexcept;
  void look(Clock::time_point now) noexcept;
  void found_stuck(unsigned index, Clock::time_point now, unsigned& able) noexcept;
  void turn_ended(unsigned index, Clock::time_point now) noexcept;
  Worker* start_compensator() noexcept;
  bool everyone_parked() const noexcept;
  void sleep_while_parked() noexcept;

  SchedulerShared& shared_;
  const Clock::duration period_;
  bool rescues_ = false;        // process_barrier_available(); the watchdog's thread only
  std::vector<Watch> watches_;  // one per worker, compensating ones included
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};  // seq_cst: read after the fence in sleep_while_parked
  std::thread thread_;
};

}  // namespace troupe::runtime::detail
