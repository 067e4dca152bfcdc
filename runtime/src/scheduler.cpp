#include <troupe/runtime/scheduler.hpp>

#include "scheduler_shared.hpp"
#include "watchdog.hpp"
#include "worker.hpp"

#include <algorithm>
#include <thread>

namespace troupe::runtime {

using detail::tls_current_worker;

namespace {

SchedulerConfig normalized(SchedulerConfig config) {
  if (config.workers == 0) config.workers = std::max(1u, std::thread::hardware_concurrency());
  if (config.inject_interval == 0) config.inject_interval = 1;
  if (config.stuck_turn.count() <= 0) {
    config.stuck_turn = std::chrono::microseconds{0};
    config.max_compensating_workers = 0;  // no watchdog, no compensation
  } else if (config.max_compensating_workers == 0) {
    config.max_compensating_workers = config.workers;
  }
  return config;
}

}  // namespace

Scheduler::Scheduler(SchedulerConfig config) : shared_(std::make_unique<detail::SchedulerShared>(normalized(config))) {
  const SchedulerConfig& normal = shared_->config;
  auto& workers = shared_->workers;
  workers.reserve(normal.workers + normal.max_compensating_workers);
  for (unsigned i = 0; i < normal.workers; ++i) workers.push_back(std::make_unique<detail::Worker>(*shared_, i));
  for (unsigned i = 0; i < normal.max_compensating_workers; ++i) {
    workers.push_back(std::make_unique<detail::Worker>(*shared_, normal.workers + i, /*compensating=*/true));
  }
  for (unsigned i = 0; i < normal.workers; ++i) workers[i]->start();
  if (normal.stuck_turn.count() > 0) watchdog_ = std::make_unique<detail::Watchdog>(*shared_);
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::schedule(ActorCore* actor) noexcept {
  detail::Worker* worker = tls_current_worker;
  if (worker != nullptr && &worker->shared() == shared_.get()) {
    worker->schedule_local(actor);
    return;
  }
  shared_->inject.push(actor);
  shared_->idle.notify_one();
}

unsigned Scheduler::worker_count() const noexcept { return shared_->config.workers; }

SchedulerStats Scheduler::stats() const noexcept {
  // Relaxed: statistics, each read on its own.
  return SchedulerStats{shared_->stuck_turns.load(std::memory_order_relaxed),
                        shared_->compensating_started.load(std::memory_order_relaxed),
                        shared_->compensating_now.load(std::memory_order_relaxed)};
}

std::vector<WorkerMetrics> Scheduler::worker_metrics() const {
  std::vector<WorkerMetrics> all;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& worker : shared_->workers) {
    if (auto m = worker->metrics(now)) all.push_back(*m);
  }
  return all;
}

void Scheduler::hold() noexcept {
  // Seq_cst: quiescent() reads holds together with the workers' sleep counters.
  shared_->holds.fetch_add(1, std::memory_order_seq_cst);
}

void Scheduler::unhold() noexcept {
  // Seq_cst: as hold.
  if (shared_->holds.fetch_sub(1, std::memory_order_seq_cst) == 1) shared_->notify_quiescence_waiters();
}

bool Scheduler::quiescent() const noexcept { return shared_->quiescent(); }

bool Scheduler::wait_quiescent(std::chrono::steady_clock::time_point deadline) {
  detail::SchedulerShared& shared = *shared_;
  std::unique_lock lock(shared.quiescence_mutex);
  while (!shared.quiescent()) {
    // Woken by the last worker to park or the last hold to go (notify_quiescence_waiters). The
    // timed wait is a safety net for the waiting thread only; workers never poll.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    shared.quiescence_cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
  return true;
}

void Scheduler::stop() noexcept {
  // The watchdog first: it may start compensating workers, which are then joined with the rest.
  if (watchdog_) watchdog_->stop();
  // Seq_cst: a parking worker reads it after its fence (SchedulerShared::is_stopping).
  if (shared_->stopping.exchange(true, std::memory_order_seq_cst)) {
    for (auto& worker : shared_->workers) worker->join();
    return;
  }
  shared_->idle.wake_all();
  for (auto& worker : shared_->workers) worker->join();
}

}  // namespace troupe::runtime
