#include "worker.hpp"

#include <troupe/runtime/idle_spin.hpp>
#include <troupe/runtime/thread_role.hpp>
#include <troupe/runtime/trace.hpp>

#include "scheduler_shared.hpp"

#include <pthread.h>

#include <string>

namespace troupe::runtime::detail {

thread_local Worker* tls_current_worker = nullptr;

Worker::Worker(SchedulerShared& shared, unsigned index)
    : shared_(shared),
      index_(index),
      rng_(0x9e3779b9u * (index + 1)),
      spin_(shared.config.idle_spin, shared.config.adaptive_spin) {}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
  const std::string name = "troupe-w" + std::to_string(index_);
  pthread_setname_np(thread_.native_handle(), name.c_str());
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::schedule_local(ActorCore* actor) noexcept {
  if (lifo_slot_ == nullptr) {
    lifo_slot_ = actor;
    return;
  }
  // The slot's previous occupant becomes stealable: let a parked worker come and help.
  push_or_inject(lifo_slot_);
  lifo_slot_ = actor;
  shared_.idle.notify_one();
}

// The run loop, in named steps: take local work; otherwise search the injection queue and the
// other workers; otherwise park until woken.
void Worker::run() noexcept {
  const RuntimeThreadScope runtime_thread;
  tls_current_worker = this;
  try {
    trace::name_this_thread("worker " + std::to_string(index_));
  } catch (...) {  // a trace without the worker's name is still a trace
  }
  while (!shared_.is_stopping()) {
    ActorCore* actor = searching_ ? nullptr : next_actor();
    if (actor == nullptr) actor = search();
    if (actor == nullptr) actor = spin_for_work();
    if (actor != nullptr) {
      run_turn(actor);
      continue;
    }
    park();
  }
  tls_current_worker = nullptr;
}

// Local work, in order: every `inject_interval` turns the injection queue first (so it cannot
// starve behind a busy worker); the LIFO slot, at most `lifo_limit` times in a row (so two actors
// waking each other cannot starve the deque); then the front of the deque.
ActorCore* Worker::next_actor() noexcept {
  const SchedulerConfig& config = shared_.config;
  if (++tick_ % config.inject_interval == 0) {
    if (ActorCore* actor = shared_.inject.pop()) return actor;
  }
  if (lifo_slot_ != nullptr) {
    ActorCore* actor = lifo_slot_;
    lifo_slot_ = nullptr;
    if (lifo_streak_ < config.lifo_limit) {
      ++lifo_streak_;
      return actor;
    }
    push_or_inject(actor);
  }
  lifo_streak_ = 0;
  return deque_.take();
}

// Injection queue, then one round of stealing from a random first victim. Only one searcher
// needs waking per notify; the last searcher to find work wakes another if more is visible (a
// burst); after a lone message that wake-up would only find nothing and park again.
ActorCore* Worker::search() noexcept {
  IdleWorkers& idle = shared_.idle;
  if (!searching_) idle.begin_search();
  searching_ = false;
  ActorCore* actor = shared_.inject.pop();
  if (actor == nullptr) actor = steal();
  const bool last_searcher = idle.end_search();
  if (actor != nullptr && last_searcher && more_work_visible()) idle.notify_one();
  return actor;
}

// Before parking: keep searching for SchedulerConfig::idle_spin (see idle_spin.hpp), counted as
// a searcher, so whoever brings work meanwhile finds a searcher and wakes nobody. Only one
// worker spins at a time: more would only take CPU from the threads that make the work.
ActorCore* Worker::spin_for_work() noexcept {
  IdleWorkers& idle = shared_.idle;
  if (!idle.try_claim_spinner()) return nullptr;
  idle.begin_search();
  ActorCore* actor = nullptr;
  spin_.until([&] {
    actor = shared_.inject.pop();
    if (actor == nullptr) actor = steal();
    return actor != nullptr || shared_.is_stopping();
  });
  const bool last_searcher = idle.end_search();
  idle.release_spinner();
  if (actor != nullptr && last_searcher && more_work_visible()) idle.notify_one();
  return actor;
}

ActorCore* Worker::steal() noexcept {
  auto& workers = shared_.workers;
  const auto n = static_cast<unsigned>(workers.size());
  if (n < 2) return nullptr;
  const unsigned start = next_random() % n;
  for (unsigned i = 0; i < n; ++i) {
    const unsigned victim = (start + i) % n;
    if (victim == index_) continue;
    if (ActorCore* actor = workers[victim]->deque().take()) return actor;
  }
  return nullptr;
}

// After a searcher found work and stopped searching: is there more for another worker? A notifier
// that saw this worker searching woke nobody, counting on it; one that comes later sees it no
// longer searching and wakes a sleeper itself. Seq_cst fence: orders the end of the search before
// the reads of the queues (pairs with the fence in IdleWorkers::notify_one).
bool Worker::more_work_visible() const noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return any_work_visible();
}

bool Worker::any_work_visible() const noexcept {
  if (shared_.inject.maybe_nonempty()) return true;
  for (auto& worker : shared_.workers) {
    if (worker->deque().maybe_nonempty()) return true;
  }
  return false;
}

// Register as a sleeper, fence, re-check every queue (see idle_workers.hpp for why this cannot
// lose a wake-up), then sleep until a notifier picks us.
void Worker::park() noexcept {
  IdleWorkers& idle = shared_.idle;
  idle.register_sleeper(index_);
  // Seq_cst: the parker's fence; pairs with the fence in IdleWorkers::notify_one.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (any_work_visible() || shared_.is_stopping()) {
    if (!idle.unregister_sleeper(index_)) {
      idle.sleep(index_);  // a waker took us off the list: consume its wake-up at once
      searching_ = true;
    }
    return;
  }
  idle.commit_sleep(index_);
  shared_.notify_quiescence_waiters();  // the last worker to park may make the pool quiescent
  {
    const trace::Span span(trace::SpanKind::park, "parked");
    idle.sleep(index_);
  }
  searching_ = true;
}

void Worker::run_turn(ActorCore* actor) noexcept {
  if (trace::enabled()) [[unlikely]] {
    run_traced_turn(actor);
    return;
  }
  // After `idle` or `terminated` the actor may already be running elsewhere, or be gone.
  if (actor->resume() == TurnResult::more) push_or_inject(actor);
}

void Worker::run_traced_turn(ActorCore* actor) noexcept {
  const std::string_view name = actor->name();  // read before the turn: the actor may end in it
  const auto start = trace::Clock::now();
  const TurnResult result = actor->resume();
  trace::record(trace::SpanKind::run, name, start, trace::Clock::now());
  if (result == TurnResult::more) push_or_inject(actor);
}

void Worker::push_or_inject(ActorCore* actor) noexcept {
  if (deque_.push(actor)) return;
  shared_.inject.push(actor);
  shared_.idle.notify_one();
}

std::uint32_t Worker::next_random() noexcept {
  // xorshift32: victim selection needs spread, not quality.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

}  // namespace troupe::runtime::detail
