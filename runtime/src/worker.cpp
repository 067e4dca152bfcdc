#include "worker.hpp"

#include <troupe/runtime/idle_spin.hpp>
#include <troupe/runtime/thread_role.hpp>
#include <troupe/runtime/trace.hpp>
#include <troupe/runtime/xorshift.hpp>

#include "process_barrier.hpp"
#include "scheduler_shared.hpp"
#include "stuck_turn_report.hpp"

#include <pthread.h>

#include <algorithm>
#include <string>
#include <utility>

namespace troupe::runtime::detail {

thread_local Worker* tls_current_worker = nullptr;

namespace {
std::int64_t steady_ns(std::chrono::steady_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::int64_t steady_now_ns() noexcept { return steady_ns(std::chrono::steady_clock::now()); }
}  // namespace

Worker::Worker(SchedulerShared& shared, unsigned index, bool compensating)
    : shared_(shared),
      index_(index),
      compensating_(compensating),
      rng_(0x9e3779b9u * (index + 1)),
      sampler_(0x85ebca6bu * (index + 1)),
      spin_(shared.config.idle_spin, shared.config.adaptive_spin) {}

void Worker::start() {
  // Relaxed: read by metrics() only, as a statistic.
  counters_.started_ns.store(steady_now_ns(), std::memory_order_relaxed);
  if (!compensating_) {
    thread_ = std::thread([this] { run<false>(); });
    pthread_setname_np(thread_.native_handle(), ("troupe-w" + std::to_string(index_)).c_str());
    return;
  }
  // A compensating worker that ran before: its thread has ended (running() was false), join it.
  if (thread_.joinable()) thread_.join();
  retire_.store(false, std::memory_order_relaxed);  // relaxed: published by the thread's start
  running_.store(true, std::memory_order_relaxed);  // relaxed: read by the watchdog, who starts it
  thread_ = std::thread([this] { run<true>(); });
  const unsigned number = index_ - shared_.config.workers;
  pthread_setname_np(thread_.native_handle(), ("troupe-c" + std::to_string(number)).c_str());
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::schedule_local(ActorCore* actor) noexcept {
  // An empty slot takes a plain store: only this thread puts actors in it, and the watchdog only
  // takes them out (rescue), so nothing can come between the load and the store. Release: pairs
  // with the watchdog's acquire compare-exchange; it sees the actor whole.
  if (lifo_slot_.load(std::memory_order_relaxed) == nullptr) {
    lifo_slot_.store(actor, std::memory_order_release);
    return;
  }
  // Replacing takes an exchange: the watchdog may take the occupant meanwhile, and then it is
  // not ours to queue. Acq_rel: as above, and we see the occupant whole.
  ActorCore* previous = lifo_slot_.exchange(actor, std::memory_order_acq_rel);
  if (previous == nullptr) return;
  // The slot's previous occupant becomes stealable: let a parked worker come and help.
  push_or_inject(previous);
  shared_.idle.notify_one();
}

// The run loop, in named steps: take local work; otherwise search the injection queue and the
// other workers; otherwise park until woken.
//
// A compensating worker runs the same loop until asked to retire (its stuck partner's turn ended),
// then hands back what it holds.
template <bool Compensating>
void Worker::run() noexcept {
  const RuntimeThreadScope runtime_thread;
  tls_current_worker = this;
  tls_worker_index = static_cast<int>(index_);
  try {
    trace::name_this_thread(Compensating ? "compensating worker " + std::to_string(index_ - shared_.config.workers)
                                         : "worker " + std::to_string(index_));
  } catch (...) {  // a trace without the worker's name is still a trace
  }
  while (!shared_.is_stopping()) {
    if constexpr (Compensating) {
      if (retire_.load(std::memory_order_acquire)) break;  // acquire: pairs with retire()
    }
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
  tls_worker_index = -1;
  if constexpr (Compensating) {
    // Woken to retire, it is counted as a searcher (IdleWorkers::wake): no longer, or every
    // later notify would count on it and wake nobody. What it hands back, and what a notify
    // meanwhile counted on it to find, it passes on.
    if (searching_) shared_.idle.end_search();
    searching_ = false;
    hand_back_work();
    if (more_work_visible()) shared_.idle.notify_one();
    counters_.ran_before_ns.add(static_cast<std::uint64_t>(
        steady_now_ns() - counters_.started_ns.load(std::memory_order_relaxed)));  // relaxed: ours
    // Seq_cst: part of quiescent(); after the hand-back, so the pool is not quiescent meanwhile.
    shared_.compensating_now.fetch_sub(1, std::memory_order_seq_cst);
    running_.store(false, std::memory_order_release);  // pairs with running()
    shared_.notify_quiescence_waiters();
  }
}

// A retiring compensating worker's actors go to the injection queue, for the others (the caller
// wakes one if need be).
void Worker::hand_back_work() noexcept {
  // Relaxed: this thread's own slot; nobody rescues a worker outside a turn.
  if (ActorCore* actor = lifo_slot_.exchange(nullptr, std::memory_order_relaxed)) shared_.inject.push(actor);
  while (ActorCore* actor = deque_.take()) shared_.inject.push(actor);
}

// Local work, in order: every `inject_interval` turns the injection queue first (so it cannot
// starve behind a busy worker); the LIFO slot, at most `lifo_limit` times in a row (so two actors
// waking each other cannot starve the deque); then the front of the deque.
ActorCore* Worker::next_actor() noexcept {
  const SchedulerConfig& config = shared_.config;
  if (++tick_ % config.inject_interval == 0) {
    if (ActorCore* actor = shared_.inject.pop()) {
      counters_.injections.add(1);
      return actor;
    }
  }
  // Relaxed load and store, no exchange: between turns the watchdog never takes from the slot
  // (rescue() backs off once the turn has ended).
  if (ActorCore* actor = lifo_slot_.load(std::memory_order_relaxed)) {
    lifo_slot_.store(nullptr, std::memory_order_relaxed);
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
  count_injection(actor);
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
  IdleSpin::Clock::duration spent{};
  spin_.until(
      [&] {
        actor = shared_.inject.pop();
        count_injection(actor);
        if (actor == nullptr) actor = steal();
        return actor != nullptr || shared_.is_stopping();
      },
      &spent);
  counters_.spins.add(1);
  counters_.spinning_ns.add(static_cast<std::uint64_t>(std::chrono::nanoseconds(spent).count()));
  if (actor != nullptr) counters_.spins_found_work.add(1);
  const bool last_searcher = idle.end_search();
  idle.release_spinner();
  if (actor != nullptr && last_searcher && more_work_visible()) idle.notify_one();
  return actor;
}

ActorCore* Worker::steal() noexcept {
  auto& workers = shared_.workers;
  const auto n = static_cast<unsigned>(workers.size());
  if (n < 2) return nullptr;
  const unsigned start = xorshift32(rng_) % n;
  for (unsigned i = 0; i < n; ++i) {
    const unsigned victim = (start + i) % n;
    if (victim == index_) continue;
    if (ActorCore* actor = workers[victim]->deque().take()) {
      counters_.steals.add(1);
      return actor;
    }
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
  // A compensating worker asked to retire leaves too (retire() sets the flag before it looks
  // for us on the sleeper list, under the list's mutex; we registered under it).
  const bool retiring = compensating_ && retire_.load(std::memory_order_relaxed);  // ordered by the mutex
  if (any_work_visible() || shared_.is_stopping() || retiring) {
    if (!idle.unregister_sleeper(index_)) {
      idle.sleep(index_);  // a waker took us off the list: consume its wake-up at once
      searching_ = true;
    }
    return;
  }
  idle.commit_sleep(index_);
  shared_.notify_quiescence_waiters();  // the last worker to park may make the pool quiescent
  const std::int64_t asleep = steady_now_ns();
  counters_.parked_since_ns.store(asleep, std::memory_order_relaxed);  // relaxed: metrics() only
  {
    const trace::Span span(trace::SpanKind::park, "parked");
    idle.sleep(index_);
  }
  counters_.parked_ns.add(static_cast<std::uint64_t>(steady_now_ns() - asleep));
  counters_.parked_since_ns.store(0, std::memory_order_relaxed);
  counters_.parks.add(1);
  searching_ = true;
  if (shared_.config.stuck_turn.count() > 0) shared_.worker_woke();
}

// A turn, stamped for the watchdog: the stamp is odd while the turn runs. What the safety net
// adds to a turn is three plain stores (one with release order, free on x86) and two relaxed
// loads, all on this worker's own line.
inline void Worker::run_turn(ActorCore* actor) noexcept {
  // Release (a plain store on x86): pairs with rescue()'s acquire load, which then sees the actor
  // whole (it calls name()).
  current_actor_.store(actor, std::memory_order_release);
  // Relaxed: only this thread writes the stamp; it counts turns itself (odd: under way).
  const std::uint64_t stamp = turn_stamp_.load(std::memory_order_relaxed) + 1;
  turn_stamp_.store(stamp, std::memory_order_relaxed);
  const bool sampled = sampler_.next();
  TurnResult result;
  if (trace::enabled()) [[unlikely]] {
    result = run_traced_turn(actor, sampled);
  } else if (sampled) [[unlikely]] {
    result = actor->resume_sampled();
  } else {
    result = actor->resume();
  }
  turn_stamp_.store(stamp + 1, std::memory_order_relaxed);
  // A compiler barrier only: the watchdog's process barrier (rescue) orders the store above before
  // the load below on this CPU, as a fence here would, at no cost to the turn.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (rescue_flags_.load(std::memory_order_relaxed) != 0) [[unlikely]]
    end_stuck_turn();
  // After `idle` the actor may already be running elsewhere, or be gone.
  if (result == TurnResult::more) {
    push_or_inject(actor);
  } else if (result == TurnResult::terminated) {
    actor->release();  // its own reference, now the turn is over (TurnResult)
  }
}

TurnResult Worker::run_traced_turn(ActorCore* actor, bool sampled) noexcept {
  const std::string_view name = actor->name();
  const auto start = trace::Clock::now();
  const TurnResult result = sampled ? actor->resume_sampled() : actor->resume();
  trace::record(trace::SpanKind::run, name, start, trace::Clock::now());
  return result;
}

// The watchdog found this worker inside turn `stamp` since `since`. A Dekker pattern with the
// turn's end in run_turn, the fence on this side only (process_barrier.hpp): flag, barrier, then
// read the stamp again. Still `stamp`: the worker's end-of-turn store comes after its barrier
// point, so its load of the flags sees kRescuing and it waits for us (end_stuck_turn); until
// then the turn's actor lives (its own reference is dropped after the turn) and the slot is
// touched by the worker only through schedule_local's exchange. Moved on: the turn ended; back off.
Worker::Rescue Worker::rescue(std::uint64_t stamp, std::chrono::steady_clock::time_point since,
                              Worker* compensator) noexcept {
  // The process barrier orders it before the stamp's load. Acquire: pairs with end_stuck_turn's
  // release, so this turn's writes below come after the last one's reads of them.
  rescue_flags_.fetch_or(kRescuing, std::memory_order_acquire);
  process_barrier();
  if (turn_stamp_.load(std::memory_order_relaxed) != stamp) {
    // Release: pairs with end_stuck_turn's acquire load (it may be waiting for this).
    rescue_flags_.fetch_and(static_cast<std::uint8_t>(~kRescuing), std::memory_order_release);
    return {};
  }
  Rescue found{true, current_actor_.load(std::memory_order_acquire)->name()};  // acquire: see run_turn
  // The actor the turn woke, out of the LIFO slot, for the other workers. Acquire: pairs with
  // schedule_local's release; a failed exchange means the worker replaced it and queued it.
  bool handed = false;
  ActorCore* woken = lifo_slot_.load(std::memory_order_acquire);
  if (woken != nullptr && lifo_slot_.compare_exchange_strong(woken, nullptr, std::memory_order_acquire)) {
    shared_.inject.push(woken);
    handed = true;
  }
  // Relaxed: only the watchdog sets kStuck, and this is the watchdog.
  if ((rescue_flags_.load(std::memory_order_relaxed) & kStuck) == 0) {  // the first rescue of this turn
    stuck_since_ = since;
    stuck_actor_ = found.actor;
  }
  if (compensator != nullptr) compensator_ = compensator;  // the watchdog pairs one at most
  // Release: pairs with end_stuck_turn's acquire; it sees the fields above.
  rescue_flags_.store(kStuck, std::memory_order_release);
  // The deque's actors are stealable already: make sure somebody comes for them.
  if (handed || deque_.maybe_nonempty()) shared_.idle.notify_one();
  return found;
}

// The end of a turn the watchdog flagged: wait out a rescue under way, then, if the turn was
// found stuck, retire its compensating worker and report how long it took.
void Worker::end_stuck_turn() noexcept {
  std::uint8_t flags;
  // Acquire: pairs with rescue()'s release stores; we see stuck_since_ and the rest.
  while (((flags = rescue_flags_.load(std::memory_order_acquire)) & kRescuing) != 0) std::this_thread::yield();
  if ((flags & kStuck) == 0) return;
  Worker* const compensator = std::exchange(compensator_, nullptr);
  const std::string_view actor = stuck_actor_;
  const auto since = stuck_since_;
  // A later rescue sees the turn ended and backs off, touching only kRescuing. Release: pairs
  // with rescue()'s acquire; our use of its fields above comes before its next writes.
  rescue_flags_.fetch_and(static_cast<std::uint8_t>(~kStuck), std::memory_order_release);
  if (compensator != nullptr) compensator->retire();
  const auto now = std::chrono::steady_clock::now();
  if (trace::enabled()) trace::record(trace::SpanKind::stuck, actor, since, now);
  report_stuck_turn(shared_.config, StuckTurn{actor, index_, now - since, true});
}

void Worker::retire() noexcept {
  // Release: pairs with the acquire load in run(). A compensator about to sleep reads it after
  // registering as a sleeper under the idle mutex, which wake() takes after this store.
  retire_.store(true, std::memory_order_release);
  shared_.idle.wake(index_);
}

void Worker::push_or_inject(ActorCore* actor) noexcept {
  if (deque_.push(actor)) return;
  shared_.inject.push(actor);
  shared_.idle.notify_one();
}

// Each field is read on its own (relaxed, see Counters): a worker that parks or wakes meanwhile
// may be counted a few microseconds off, never negative.
std::optional<WorkerMetrics> Worker::metrics(std::chrono::steady_clock::time_point at) const noexcept {
  const std::int64_t started = counters_.started_ns.load(std::memory_order_relaxed);
  if (started == 0) return std::nullopt;  // a compensating worker that never ran
  const std::int64_t now = steady_ns(at);
  std::int64_t lived = static_cast<std::int64_t>(counters_.ran_before_ns.get());
  if (!compensating_ || running()) lived += now - started;
  std::int64_t parked = static_cast<std::int64_t>(counters_.parked_ns.get());
  if (const std::int64_t since = counters_.parked_since_ns.load(std::memory_order_relaxed); since != 0 && since < now)
    parked += now - since;
  const auto spinning = static_cast<std::int64_t>(counters_.spinning_ns.get());
  WorkerMetrics m;
  m.index = index_;
  m.compensating = compensating_;
  m.parked = std::chrono::nanoseconds(parked);
  m.spinning = std::chrono::nanoseconds(spinning);
  m.busy = std::chrono::nanoseconds(std::max<std::int64_t>(0, lived - parked - spinning));
  m.turns = turn_stamp() / 2;
  m.steals = counters_.steals.get();
  m.injections = counters_.injections.get();
  m.spins = counters_.spins.get();
  m.spins_found_work = counters_.spins_found_work.get();
  m.parks = counters_.parks.get();
  return m;
}

}  // namespace troupe::runtime::detail
