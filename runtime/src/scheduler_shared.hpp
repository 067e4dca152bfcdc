// What the pool's Scheduler and its workers share (after Tokio's `worker::Shared`): the Scheduler
// owns it and is the handle the rest of the runtime holds; each Worker holds a reference to it.
// Neither reaches into the other.
//
// Layout: the fields written only while the pool is built (config, workers) come first and share
// no cache line with the contended ones after them; InjectionQueue and IdleWorkers align their own
// contended fields to cache lines, and the two counters below are aligned here.
#pragma once

#include <troupe/runtime/scheduler.hpp>

#include "idle_workers.hpp"
#include "injection_queue.hpp"
#include "worker.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace troupe::runtime::detail {

struct SchedulerShared {
  explicit SchedulerShared(const SchedulerConfig& normalized)
      : config(normalized), idle(normalized.workers + normalized.max_compensating_workers) {}

  // Whether Scheduler::stop has begun: workers check it in the run loop, in the spin, and in the
  // parker's re-check. Seq_cst: the parker reads it after its fence; pairs with the exchange in
  // Scheduler::stop, which then wakes every registered sleeper.
  bool is_stopping() const noexcept { return stopping.load(std::memory_order_seq_cst); }

  // True when every worker is parked (compensating ones that run included), nothing waits in the
  // injection queue and nothing holds.
  bool quiescent() const noexcept {
    // Seq_cst: one consistent order with hold/unhold and the parking protocol's counters.
    const unsigned running = config.workers + compensating_now.load(std::memory_order_seq_cst);
    return idle.committed() == running && holds.load(std::memory_order_seq_cst) == 0 && !inject.maybe_nonempty();
  }

  // A worker is back from sleep: if the watchdog sleeps too (it does while every worker does), it
  // is woken, since a turn may now run long. Seq_cst fence: pairs with the watchdog's fence
  // between its store of watchdog_asleep and its read of the sleepers (watchdog.cpp): either it
  // sees this worker awake, or this worker sees it asleep. On the wake-up path only.
  void worker_woke() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Relaxed, ordered by the fence; the exchange picks the one waker.
    if (watchdog_asleep.load(std::memory_order_relaxed) && watchdog_asleep.exchange(false, std::memory_order_relaxed)) {
      watchdog_asleep.notify_one();
    }
  }

  // Called by the last hold to go and by each worker that commits to sleep: wakes
  // Scheduler::wait_quiescent if the pool is now quiescent.
  void notify_quiescence_waiters() noexcept {
    if (!quiescent()) return;
    std::lock_guard lock(quiescence_mutex);
    quiescence_cv.notify_all();
  }

  const SchedulerConfig config;  // normalized: workers, inject_interval and max_compensating_workers fixed
  // Filled by the Scheduler's constructor, then fixed: config.workers workers, then the
  // compensating ones (started only while a turn holds a worker: watchdog.hpp).
  std::vector<std::unique_ptr<Worker>> workers;
  InjectionQueue inject;
  IdleWorkers idle;
  // Work outside the queues that keeps the pool busy (Scheduler::hold); see quiescent().
  alignas(64) std::atomic<std::int64_t> holds{0};
  alignas(64) std::atomic<bool> stopping{false};  // read through is_stopping()
  // The safety net (watchdog.hpp). Counters: relaxed, read only as statistics.
  alignas(64) std::atomic<unsigned> compensating_now{0};  // seq_cst: part of quiescent()
  std::atomic<std::uint64_t> stuck_turns{0};
  std::atomic<std::uint64_t> compensating_started{0};
  alignas(64) std::atomic<bool> watchdog_asleep{false};  // see worker_woke()
  std::mutex quiescence_mutex;
  std::condition_variable quiescence_cv;
};

}  // namespace troupe::runtime::detail
