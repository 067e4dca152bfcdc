// What a System owns.
#pragma once

#include <troupe/registry.hpp>
#include <troupe/system.hpp>
#include <troupe/runtime/dedicated_thread.hpp>
#include <troupe/runtime/scheduler.hpp>
#include <troupe/runtime/timer_service.hpp>

#include "live_set.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace troupe {

struct System::Internals {
  explicit Internals(Config c)
      : config(std::move(c)),
        scheduler(runtime::SchedulerConfig{config.workers}),
        timers(std::make_unique<runtime::TimerService>(&scheduler)) {}

  Config config;
  runtime::Scheduler scheduler;
  std::unique_ptr<runtime::TimerService> timers;
  detail::LiveSet live;
  alignas(64) std::atomic<std::uint64_t> dead_letters{0};
  alignas(64) std::mutex blocking_mutex;
  std::vector<std::unique_ptr<runtime::DedicatedThread>> blocking_threads;
  std::mutex shutdown_mutex;
  bool shut_down = false;
  // Last: destroyed first, while everything an actor's release may need is still there.
  Registry registry{live};
};

}  // namespace troupe
