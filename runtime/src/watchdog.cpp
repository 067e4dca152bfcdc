#include "watchdog.hpp"

#include <troupe/runtime/thread_role.hpp>
#include <troupe/runtime/trace.hpp>

#include "process_barrier.hpp"
#include "scheduler_shared.hpp"
#include "stuck_turn_report.hpp"
#include "worker.hpp"

#include <pthread.h>

#include <algorithm>

namespace troupe::runtime::detail {

Watchdog::Watchdog(SchedulerShared& shared)
    : shared_(shared),
      period_(std::max<Clock::duration>(shared.config.stuck_turn / 4, std::chrono::microseconds(250))),
      watches_(shared.workers.size()) {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "troupe-watch");
}

void Watchdog::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true, std::memory_order_seq_cst)) return;  // seq_cst: see the member
  }
  cv_.notify_one();
  // Out of a deep sleep too (sleep_while_parked re-reads stopping_ after raising the flag).
  shared_.watchdog_asleep.store(false, std::memory_order_seq_cst);
  shared_.watchdog_asleep.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::run() noexcept {
  const RuntimeThreadScope runtime_thread;
  try {
    trace::name_this_thread("watchdog");
  } catch (...) {  // a trace without the thread's name is still a trace
  }
  // Here, not in the constructor: the first registration with membarrier waits for an RCU grace
  // period once the process has threads (~20 ms measured), which a System's construction should
  // not pay. Decided before the first look, and never changed after: a turn found stuck is ended
  // by one party for its whole life (see turn_ended).
  rescues_ = process_barrier_available();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Relaxed in the predicate: written under this mutex.
      if (cv_.wait_for(lock, period_, [&] { return stopping_.load(std::memory_order_relaxed); })) return;
    }
    look(Clock::now());
    if (everyone_parked()) sleep_while_parked();
  }
}

// One look at every worker: a stamp that moved on starts a new watch; one that stayed odd (inside
// a turn) for stuck_turn is a stuck turn.
void Watchdog::look(Clock::time_point now) noexcept {
  const unsigned workers = shared_.config.workers;
  // Threads able to run actors: every running worker but the stuck ones.
  unsigned able = workers + shared_.compensating_now.load(std::memory_order_relaxed);  // relaxed: a count
  std::vector<unsigned> stuck;
  for (unsigned i = 0; i < watches_.size(); ++i) {
    Worker& worker = *shared_.workers[i];
    Watch& watch = watches_[i];
    if (i >= workers && !worker.running()) {
      watch = Watch{};
      continue;
    }
    const std::uint64_t stamp = worker.turn_stamp();
    if (stamp != watch.stamp) {
      if (watch.stuck) turn_ended(i, now);
      watch = Watch{stamp, now, false, nullptr};
      continue;
    }
    if ((stamp & 1) == 0 || now - watch.since < shared_.config.stuck_turn) continue;
    --able;
    stuck.push_back(i);
  }
  for (unsigned i : stuck) found_stuck(i, now, able);
}

// A stuck turn: the first time, counted and reported; every time, a compensating worker if
// too few threads can run actors and it has none yet, and the actor it woke moved on.
void Watchdog::found_stuck(unsigned index, Clock::time_point now, unsigned& able) noexcept {
  Worker& worker = *shared_.workers[index];
  Watch& watch = watches_[index];
  Worker* compensator = nullptr;
  if (watch.compensator == nullptr && able < shared_.config.workers) compensator = start_compensator();
  std::string_view actor;
  if (rescues_ && (compensator != nullptr || !watch.stuck || worker.lifo_occupied())) {
    const Worker::Rescue rescue = worker.rescue(watch.stamp, watch.since, compensator);
    if (!rescue.still_in_turn) {  // it ended meanwhile: the next look starts a new watch
      if (compensator != nullptr) compensator->retire();
      return;
    }
    actor = rescue.actor;
  }
  if (compensator != nullptr) {
    watch.compensator = compensator;  // without rescues, this watch retires it (turn_ended)
    ++able;
  }
  if (watch.stuck) return;
  watch.stuck = true;
  shared_.stuck_turns.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  report_stuck_turn(shared_.config, StuckTurn{actor, index, now - watch.since, false});
}

// Without rescues the worker cannot tell its turn was stuck: the watchdog ends it for it.
void Watchdog::turn_ended(unsigned index, Clock::time_point now) noexcept {
  Watch& watch = watches_[index];
  if (rescues_) return;  // the worker retires its compensator and reports (end_stuck_turn)
  if (watch.compensator != nullptr) watch.compensator->retire();
  report_stuck_turn(shared_.config, StuckTurn{{}, index, now - watch.since, true});
}

// A compensating worker that is not running, started; nullptr at the cap.
Worker* Watchdog::start_compensator() noexcept {
  auto& workers = shared_.workers;
  for (std::size_t i = shared_.config.workers; i < workers.size(); ++i) {
    Worker& candidate = *workers[i];
    if (candidate.running()) continue;
    // Seq_cst: part of quiescent(); counted before it runs, so the pool is never quiescent early.
    shared_.compensating_now.fetch_add(1, std::memory_order_seq_cst);
    shared_.compensating_started.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    try {
      candidate.start();
    } catch (...) {  // no thread to be had: go on without (the next look tries again)
      shared_.compensating_now.fetch_sub(1, std::memory_order_seq_cst);
      return nullptr;
    }
    return &candidate;
  }
  return nullptr;
}

bool Watchdog::everyone_parked() const noexcept {
  // Seq_cst: after the fence in sleep_while_parked; see SchedulerShared::worker_woke.
  const unsigned running = shared_.config.workers + shared_.compensating_now.load(std::memory_order_seq_cst);
  return shared_.idle.committed() == running;
}

// Every worker sleeps: so does the watchdog, until one wakes (SchedulerShared::worker_woke) or
// the pool stops. Raise the flag, fence, look again: either a worker that wakes now sees the flag,
// or this sees it awake.
void Watchdog::sleep_while_parked() noexcept {
  shared_.watchdog_asleep.store(true, std::memory_order_relaxed);  // ordered by the fence
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (everyone_parked() && !stopping_.load(std::memory_order_seq_cst)) {
    shared_.watchdog_asleep.wait(true, std::memory_order_acquire);  // acquire: pairs with the waker
  }
  shared_.watchdog_asleep.store(false, std::memory_order_relaxed);  // relaxed: only a hint now
  // What it saw before sleeping is stale: every watch starts again.
  for (Watch& watch : watches_) watch = Watch{};
}

}  // namespace troupe::runtime::detail
