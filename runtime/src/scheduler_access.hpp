// The pool's internals, as its workers see them.
#pragma once

#include "idle_workers.hpp"
#include "injection_queue.hpp"

#include <troupe/runtime/scheduler.hpp>

namespace troupe::runtime::detail {

struct SchedulerAccess {
  static IdleWorkers& idle(Scheduler& s) noexcept { return *s.idle_; }
  static InjectionQueue& inject(Scheduler& s) noexcept { return *s.inject_; }
  static const SchedulerConfig& config(Scheduler& s) noexcept { return s.config_; }
  static std::vector<std::unique_ptr<Worker>>& workers(Scheduler& s) noexcept { return s.workers_; }
  static bool stopping(Scheduler& s) noexcept {
    // Seq_cst: read after the parker's fence; pairs with the store in Scheduler::stop.
    return s.stopping_.load(std::memory_order_seq_cst);
  }
  static void on_worker_committed_sleep(Scheduler& s) noexcept { s.on_worker_committed_sleep(); }
};

}  // namespace troupe::runtime::detail
