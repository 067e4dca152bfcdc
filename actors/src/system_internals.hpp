// What a System owns.
#pragma once

#include <troupe/groups.hpp>
#include <troupe/metrics_server.hpp>
#include <troupe/registry.hpp>
#include <troupe/runtime/dedicated_thread.hpp>
#include <troupe/runtime/deterministic_scheduler.hpp>
#include <troupe/runtime/scheduler.hpp>
#include <troupe/runtime/timer_service.hpp>
#include <troupe/system.hpp>

#include "actor_metrics.hpp"
#include "deterministic_driver.hpp"
#include "live_set.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace troupe {

struct System::Internals {
  Internals(Config c, System& system) : config(std::move(c)), logger(std::move(config.log)), groups(system, live) {
    if (config.deterministic) {
      deterministic = std::make_unique<runtime::DeterministicScheduler>(config.deterministic->seed);
      executor = deterministic.get();
      timers = std::make_unique<runtime::TimerService>(runtime::TimerService::ManualClock{});
    } else {
      pool = std::make_unique<runtime::Scheduler>(
          runtime::SchedulerConfig{.workers = config.workers,
                                   .idle_spin = config.idle_spin,
                                   .adaptive_spin = config.adaptive_spin,
                                   .stuck_turn = config.stuck_turn,
                                   .max_compensating_workers = config.max_compensating_workers,
                                   .on_stuck_turn = config.on_stuck_turn,
                                   .logger = logger});
      executor = pool.get();
      timers = std::make_unique<runtime::TimerService>(pool.get());
    }
  }

  Config config;
  runtime::Logger logger;  // config.log's sink, moved here; shared with the pool and the system's nodes
  // Exactly one of the two runs the actors: the worker pool, or (deterministic mode) the thread
  // that drives the system.
  std::unique_ptr<runtime::Scheduler> pool;
  std::unique_ptr<runtime::DeterministicScheduler> deterministic;
  runtime::Executor* executor = nullptr;
  std::unique_ptr<runtime::TimerService> timers;
  // Deterministic mode only: how a thread waits for room in a full mailbox (set by System).
  std::unique_ptr<detail::RunUntilRoom> room_waiter;
  detail::LiveSet live;
  alignas(64) std::atomic<std::uint64_t> dead_letters{0};
  std::atomic<std::uint64_t> dropped_request_errors{0};  // rare: shares dead_letters' line
  std::array<std::atomic<std::uint64_t>, dead_letter_reasons> dead_letters_by_reason{};  // relaxed: statistics
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  detail::ActorMetrics actor_metrics;
  alignas(64) std::mutex blocking_mutex;
  std::vector<std::unique_ptr<runtime::DedicatedThread>> blocking_threads;
  std::mutex shutdown_mutex;
  bool shut_down = false;
  // Waiting for names (name_service.cpp): the service, started on first use (guarded by the mutex),
  // how many names it waits for (register_name pokes it while nonzero), and whether a poke is on
  // its way (bursts of registrations send one).
  std::mutex name_service_mutex;
  DynamicHandle name_service;
  alignas(64) std::atomic<std::size_t> awaited_names{0};
  std::atomic<bool> name_poke_pending{false};
  // Metrics (system_metrics.cpp): the sources nodes add to every snapshot, and the HTTP server
  // (metrics_server.hpp), stopped first at shutdown.
  std::mutex metrics_mutex;
  std::vector<std::pair<std::uint64_t, std::function<void(MetricsSnapshot&)>>> metrics_sources;
  std::uint64_t next_metrics_source = 1;
  std::unique_ptr<detail::MetricsServer> metrics_server;
  // Process groups (groups.cpp): after what an actor's release may need, as the registry.
  Groups groups;
  // Last: destroyed first, while everything an actor's release may need is still there.
  Registry registry{live};
};

}  // namespace troupe
