// The worker pool: one worker thread per hardware thread by default, each with a LIFO slot and a
// Chase–Lev deque, a global injection queue for actors scheduled from outside, random-victim
// stealing, and parking of idle workers (after a short spin, IdleSpin: an idle pool uses no CPU).
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/log.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace troupe::runtime {

// A turn that did not end within SchedulerConfig::stuck_turn (the safety net, watchdog.hpp).
struct StuckTurn {
  std::string_view actor;  // the actor's type
  unsigned worker;         // the index of the worker thread that runs it
  // Since the watchdog first saw the turn (so up to a quarter of stuck_turn short of the whole):
  // so far when found (ended false), or until it ended (ended true).
  std::chrono::nanoseconds duration;
  bool ended;
};

// What the pool did, counted since it started.
struct SchedulerStats {
  std::uint64_t stuck_turns = 0;           // turns found stuck (each counted once)
  std::uint64_t compensating_started = 0;  // compensating worker threads started
  unsigned compensating_now = 0;           // compensating workers running now
};

// One worker thread of the pool, counted since the pool started (Scheduler::worker_metrics).
struct WorkerMetrics {
  unsigned index = 0;         // Scheduler::current_worker_index() of the thread
  bool compensating = false;  // a thread the safety net starts while a turn holds a worker
  // Where the thread's time went: parked (asleep, waiting for work), spinning (looking for work
  // before parking; IdleSpin), and the rest, busy (running turns, and the short searches between
  // them). Their sum is the pool's age for a worker; for a compensating one, the time it ran.
  std::chrono::nanoseconds busy{0};
  std::chrono::nanoseconds parked{0};
  std::chrono::nanoseconds spinning{0};
  std::uint64_t turns = 0;             // actors run (one turn: up to its budget of messages)
  std::uint64_t steals = 0;            // actors taken from another worker's deque
  std::uint64_t injections = 0;        // actors taken from the pool's injection queue
  std::uint64_t spins = 0;             // spins before parking
  std::uint64_t spins_found_work = 0;  // of those, the ones that found an actor to run
  std::uint64_t parks = 0;             // times the thread went to sleep
};

struct SchedulerConfig {
  unsigned workers = 0;           // 0: one per hardware thread
  unsigned inject_interval = 61;  // a worker looks at the injection queue first every N turns
  unsigned lifo_limit = 3;        // consecutive turns from the LIFO slot before the deque's turn
  // How long a worker that ran out of work keeps looking before it parks (IdleSpin): a message
  // that comes within it needs no wake-up. One worker spins at a time; zero never spins.
  std::chrono::microseconds idle_spin{50};
  // Whether that spin stops where it does not pay (AdaptiveSpin: nothing came in several spins,
  // or the machine is oversubscribed). Off only to measure or test the spin itself.
  bool adaptive_spin = true;
  // The safety net for a turn that does not end (watchdog.hpp): a worker inside one turn longer
  // than this is stuck. The actor in its LIFO slot goes to the injection queue, a parked worker
  // is woken for its deque, and a compensating worker thread starts while fewer than `workers`
  // threads can run actors; it retires when the long turn ends. Zero: no watchdog thread at all.
  std::chrono::microseconds stuck_turn{10'000};
  unsigned max_compensating_workers = 0;  // at most this many at once; 0: as many as `workers`
  // Called when a turn is found stuck (on the watchdog thread) and when it ends (on its worker).
  std::function<void(const StuckTurn&)> on_stuck_turn{};
  // Where the pool logs its events: a stuck turn, as it is found ("stuck_turn", warning) and as
  // it ends ("stuck_turn_ended", info), with the actor's type, the worker and how long.
  Logger logger{};
};

namespace detail {
struct SchedulerShared;
class Watchdog;
// The calling thread's index in its worker pool, -1 on any other thread (worker.cpp sets it).
// Constant-initialised, so a read is one load, with no initialisation guard.
inline constinit thread_local int tls_worker_index = -1;
}  // namespace detail

class Scheduler final : public Executor {
 public:
  explicit Scheduler(SchedulerConfig config = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Executor: from a worker of this pool, into its LIFO slot; from anywhere else, the
  // injection queue, waking a parked worker.
  void schedule(ActorCore* actor) noexcept override;

  unsigned worker_count() const noexcept;  // the configured workers (compensating ones aside)
  SchedulerStats stats() const noexcept;
  // Every worker's counters (the compensating workers' once they have run), read without
  // stopping anyone: each worker writes its own, and a reader sums them.
  std::vector<WorkerMetrics> worker_metrics() const;

  // Work that lives outside the pool's queues but keeps the system busy (a blocking actor in a
  // turn, a pending one-shot timer) holds the pool out of quiescence while it lasts.
  void hold() noexcept;
  void unhold() noexcept;

  // True when every worker is parked, nothing waits in the injection queue and nothing holds.
  bool quiescent() const noexcept;
  // Blocks until quiescent() (or until `deadline`); returns quiescent().
  bool wait_quiescent(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  // Stops and joins the workers. Actors still queued are not run; call when quiescent.
  void stop() noexcept;

  // The index of the calling worker in its pool, or -1 on any other thread. A compensating
  // worker's index follows the others': workers + 0, 1, ... (up to max_compensating_workers).
  // Inline, a thread-local read: the live set's counts take it on every actor's stop.
  static int current_worker_index() noexcept { return detail::tls_worker_index; }

 private:
  // Everything the workers share with the scheduler (runtime/src/scheduler_shared.hpp). Its
  // address is fixed for the pool's life: the workers hold a reference to it.
  const std::unique_ptr<detail::SchedulerShared> shared_;
  std::unique_ptr<detail::Watchdog> watchdog_;  // none when stuck_turn is zero
};

}  // namespace troupe::runtime
