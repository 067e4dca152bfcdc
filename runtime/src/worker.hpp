// One worker thread of the pool and its run loop.
#pragma once

#include "injection_queue.hpp"
#include "work_stealing_deque.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/runtime/scheduler.hpp>
#include <troupe/runtime/turn_sampler.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>

namespace troupe::runtime::detail {

struct SchedulerShared;

class Worker {
 public:
  // A compensating worker (watchdog.hpp) runs only while a long turn holds another one.
  Worker(SchedulerShared& shared, unsigned index, bool compensating = false);
  void start();
  void join();

  // Called on this worker's own thread only.
  void schedule_local(ActorCore* actor) noexcept;

  WorkStealingDeque& deque() noexcept { return deque_; }
  SchedulerShared& shared() noexcept { return shared_; }
  unsigned index() const noexcept { return index_; }

  // --- The safety net, for the watchdog (watchdog.cpp) --------------------------------------
  // Odd while the worker is inside a turn; each turn moves it on by two. Relaxed: the watchdog
  // only compares what it reads over time; rescue() orders itself (see there).
  std::uint64_t turn_stamp() const noexcept { return turn_stamp_.load(std::memory_order_relaxed); }
  struct Rescue {
    bool still_in_turn = false;  // false: the turn had ended; nothing was done
    std::string_view actor;      // the actor whose turn it is
  };
  // The watchdog found this worker inside the turn `stamp` since `since`: empties the LIFO slot
  // into the injection queue and, if `compensator` is set, pairs it with this turn (it retires
  // when the turn ends). Safe against the worker ending the turn meanwhile: see worker.cpp.
  Rescue rescue(std::uint64_t stamp, std::chrono::steady_clock::time_point since, Worker* compensator) noexcept;
  // Whether an actor waits in the LIFO slot. Relaxed: a hint; rescue() decides.
  bool lifo_occupied() const noexcept { return lifo_slot_.load(std::memory_order_relaxed) != nullptr; }
  // Compensating workers: whether the thread is running (started and not yet retired), and the
  // request to retire once its own turn (if any) is over.
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }  // pairs with run()'s end
  void retire() noexcept;

  // This worker's counters, from any thread (Scheduler::worker_metrics). Nothing for a
  // compensating worker that never ran.
  std::optional<WorkerMetrics> metrics(std::chrono::steady_clock::time_point now) const noexcept;

 private:
  template <bool Compensating>
  void run() noexcept;
  ActorCore* next_actor() noexcept;
  ActorCore* search() noexcept;
  ActorCore* spin_for_work() noexcept;
  ActorCore* steal() noexcept;
  bool any_work_visible() const noexcept;
  bool more_work_visible() const noexcept;

  void park() noexcept;
  // Inlined into the run loop: a call per turn was a measurable share of a ping-pong's cost.
  [[gnu::always_inline]] inline void run_turn(ActorCore* actor) noexcept;
  TurnResult run_traced_turn(ActorCore* actor, bool sampled) noexcept;
  void end_stuck_turn() noexcept;
  void hand_back_work() noexcept;
  void push_or_inject(ActorCore* actor) noexcept;

  SchedulerShared& shared_;  // of this worker's pool: what it shares with the others
  const unsigned index_;
  const bool compensating_;
  WorkStealingDeque deque_;

  // The line this worker writes on every turn. The LIFO slot: only this worker stores an actor
  // in it; the watchdog may take one out during a long turn (rescue), hence atomic.
  static constexpr std::uint8_t kRescuing = 1;  // the watchdog is inside rescue(): wait for it
  static constexpr std::uint8_t kStuck = 2;     // this turn was found stuck: end_stuck_turn()
  alignas(64) std::atomic<ActorCore*> lifo_slot_{nullptr};
  std::atomic<std::uint64_t> turn_stamp_{0};
  std::atomic<ActorCore*> current_actor_{nullptr};  // the actor of the turn under way
  std::atomic<std::uint8_t> rescue_flags_{0};       // kRescuing | kStuck, set by the watchdog
  unsigned lifo_streak_ = 0;
  bool searching_ = false;  // counted in IdleWorkers' searchers (set when woken)
  std::uint64_t tick_ = 0;
  std::uint32_t rng_;    // xorshift32's state: the victims steal() tries first
  TurnSampler sampler_;  // which turns the metrics sample
  AdaptiveSpin spin_;  // this worker's spins before it parks: whether they have paid lately

  // What metrics() reports, on a line of their own: written by this worker only (a plain add:
  // Counter), read by any thread, relaxed: statistics, each read on its own. Clock readings are
  // steady_clock nanoseconds. Turns are the turn stamp's.
  struct Counter {
    std::atomic<std::uint64_t> value{0};
    void add(std::uint64_t n) noexcept {
      value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
  };
  struct alignas(64) Counters {
    Counter steals, injections, spins, spins_found_work, parks;
    Counter parked_ns, spinning_ns;
    // When the thread started (compensating: its latest start; earlier runs are in ran_before_ns),
    // and when it went to sleep (0 while awake), so that a reader counts a sleep under way.
    std::atomic<std::int64_t> started_ns{0};
    std::atomic<std::int64_t> parked_since_ns{0};
    Counter ran_before_ns;
  } counters_;
  void count_injection(ActorCore* actor) noexcept {
    if (actor != nullptr) counters_.injections.add(1);
  }

  // Written by the watchdog in rescue(), under kRescuing; read by this worker once that is clear.
  Worker* compensator_ = nullptr;
  std::chrono::steady_clock::time_point stuck_since_{};
  std::string_view stuck_actor_{};
  // Compensating workers only.
  std::atomic<bool> retire_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

extern thread_local Worker* tls_current_worker;

}  // namespace troupe::runtime::detail
