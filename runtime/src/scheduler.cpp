#include <troupe/runtime/scheduler.hpp>

#include "idle_workers.hpp"
#include "injection_queue.hpp"
#include "scheduler_access.hpp"
#include "worker.hpp"

#include <algorithm>
#include <thread>

namespace troupe::runtime {

using detail::tls_current_worker;

Scheduler::Scheduler(SchedulerConfig config) : config_(config) {
  if (config_.workers == 0) config_.workers = std::max(1u, std::thread::hardware_concurrency());
  if (config_.inject_interval == 0) config_.inject_interval = 1;
  inject_ = std::make_unique<detail::InjectionQueue>();
  idle_ = std::make_unique<detail::IdleWorkers>(config_.workers);
  workers_.reserve(config_.workers);
  for (unsigned i = 0; i < config_.workers; ++i) workers_.push_back(std::make_unique<detail::Worker>(*this, i));
  for (auto& worker : workers_) worker->start();
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::schedule(ActorCore* actor) noexcept {
  detail::Worker* worker = tls_current_worker;
  if (worker != nullptr && &worker->scheduler() == this) {
    worker->schedule_local(actor);
    return;
  }
  inject_->push(actor);
  idle_->notify_one();
}

void Scheduler::hold() noexcept {
  // Seq_cst: quiescent() reads holds_ together with the workers' sleep counters.
  holds_.fetch_add(1, std::memory_order_seq_cst);
}

void Scheduler::unhold() noexcept {
  // Seq_cst: as hold.
  if (holds_.fetch_sub(1, std::memory_order_seq_cst) == 1) notify_quiescence_waiters();
}

bool Scheduler::quiescent() const noexcept {
  // Seq_cst: one consistent order with hold/unhold and the parking protocol's counters.
  return idle_->committed() == workers_.size() && holds_.load(std::memory_order_seq_cst) == 0 &&
         !inject_->maybe_nonempty();
}

void Scheduler::on_worker_committed_sleep() noexcept { notify_quiescence_waiters(); }

void Scheduler::notify_quiescence_waiters() noexcept {
  if (!quiescent()) return;
  std::lock_guard lock(quiescence_mutex_);
  quiescence_cv_.notify_all();
}

bool Scheduler::wait_quiescent(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(quiescence_mutex_);
  while (!quiescent()) {
    // Woken by the last worker to park or the last hold to go. The timed wait is a safety net
    // for the waiting thread only; workers never poll.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    quiescence_cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
  return true;
}

void Scheduler::stop() noexcept {
  // Seq_cst: a parking worker reads it after its fence (SchedulerAccess::stopping).
  if (stopping_.exchange(true, std::memory_order_seq_cst)) {
    for (auto& worker : workers_) worker->join();
    return;
  }
  idle_->wake_all();
  for (auto& worker : workers_) worker->join();
}

int Scheduler::current_worker_index() noexcept {
  detail::Worker* worker = tls_current_worker;
  return worker == nullptr ? -1 : static_cast<int>(worker->index());
}

}  // namespace troupe::runtime
