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
  explicit SchedulerShared(const SchedulerConfig& normalized) : config(normalized), idle(normalized.workers) {}

  // Whether Scheduler::stop has begun: workers check it in the run loop, in the spin, and in the
  // parker's re-check. Seq_cst: the parker reads it after its fence; pairs with the exchange in
  // Scheduler::stop, which then wakes every registered sleeper.
  bool is_stopping() const noexcept { return stopping.load(std::memory_order_seq_cst); }

  // True when every worker is parked, nothing waits in the injection queue and nothing holds.
  bool quiescent() const noexcept {
    // Seq_cst: one consistent order with hold/unhold and the parking protocol's counters.
    return idle.committed() == workers.size() && holds.load(std::memory_order_seq_cst) == 0 && !inject.maybe_nonempty();
  }

  // Called by the last hold to go and by each worker that commits to sleep: wakes
  // Scheduler::wait_quiescent if the pool is now quiescent.
  void notify_quiescence_waiters() noexcept {
    if (!quiescent()) return;
    std::lock_guard lock(quiescence_mutex);
    quiescence_cv.notify_all();
  }

  const SchedulerConfig config;                  // normalized: workers and inject_interval are at least 1
  std::vector<std::unique_ptr<Worker>> workers;  // filled by the Scheduler's constructor, then fixed
  InjectionQueue inject;
  IdleWorkers idle;
  // Work outside the queues that keeps the pool busy (Scheduler::hold); see quiescent().
  alignas(64) std::atomic<std::int64_t> holds{0};
  alignas(64) std::atomic<bool> stopping{false};  // read through is_stopping()
  std::mutex quiescence_mutex;
  std::condition_variable quiescence_cv;
};

}  // namespace troupe::runtime::detail
