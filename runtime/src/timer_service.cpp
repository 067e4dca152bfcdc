#include <troupe/runtime/timer_service.hpp>
#include <troupe/runtime/thread_role.hpp>

#include <troupe/runtime/scheduler.hpp>

#include <pthread.h>

#include <algorithm>

namespace troupe::runtime {

// States of a timer. Exactly one transition out of `pending` happens for a one-shot timer, and
// whoever makes it releases the scheduler hold.
enum : std::uint8_t { kPending = 0, kDone = 1, kCancelled = 2 };

struct TimerService::Handle::Entry {
  Clock::time_point due;
  Clock::duration period;
  std::uint64_t sequence;
  std::unique_ptr<TimerTask> task;
  Scheduler* holds;  // non-null while a one-shot timer holds the scheduler
  bool background;   // periodic, or run_in_background: next_due(false) passes over it
  std::atomic<std::size_t>* cancelled_in_heap;
  std::atomic<std::uint8_t> state{kPending};
};

bool TimerService::Handle::cancel() noexcept {
  if (!entry_) return false;
  std::uint8_t expected = kPending;
  // Acq_rel: the winner of the transition releases the hold exactly once (pairs with the
  // timer thread's exchange in run()).
  if (!entry_->state.compare_exchange_strong(expected, kCancelled, std::memory_order_acq_rel)) return false;
  if (entry_->period == Clock::duration::zero()) {
    // A one-shot timer that lost the race never fires: free its task (and what the task holds,
    // an actor reference) now, not when the entry leaves the heap.
    entry_->task.reset();
  }
  // Relaxed: a statistic that only decides when to compact.
  entry_->cancelled_in_heap->fetch_add(1, std::memory_order_relaxed);
  if (entry_->holds != nullptr) entry_->holds->unhold();
  return true;
}

bool TimerService::Handle::active() const noexcept {
  // Acquire: pairs with the state transitions above and in run().
  return entry_ && entry_->state.load(std::memory_order_acquire) == kPending;
}

bool TimerService::Later::operator()(const std::shared_ptr<Handle::Entry>& a,
                                     const std::shared_ptr<Handle::Entry>& b) const noexcept {
  if (a->due != b->due) return a->due > b->due;
  return a->sequence > b->sequence;  // same due time: first scheduled fires first
}

TimerService::TimerService(Scheduler* scheduler) : scheduler_(scheduler) {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "troupe-timers");
}

TimerService::TimerService(ManualClock) : scheduler_(nullptr), manual_(true) {}

TimerService::~TimerService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& entry : heap_) Handle(std::move(entry)).cancel();
  heap_.clear();
}

void TimerService::push_locked(std::shared_ptr<Handle::Entry> entry) {
  heap_.push_back(std::move(entry));
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

std::shared_ptr<TimerService::Handle::Entry> TimerService::pop_locked() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  auto entry = std::move(heap_.back());
  heap_.pop_back();
  return entry;
}

// Drops cancelled entries once they are most of the heap: O(n), at most once per n/2 cancels.
void TimerService::compact_locked() {
  const std::size_t before = heap_.size();
  std::erase_if(heap_, [](const std::shared_ptr<Handle::Entry>& e) {
    // Acquire: pairs with cancel()'s transition.
    return e->state.load(std::memory_order_acquire) != kPending;
  });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
  // Relaxed: a statistic (see cancel()).
  cancelled_in_heap_.fetch_sub(std::min(before - heap_.size(), cancelled_in_heap_.load(std::memory_order_relaxed)),
                               std::memory_order_relaxed);
}

// Delays are capped here (about a century: never, in practice), so that a due time computed as
// now + Duration::max() (a natural "no timeout") does not overflow into the past and fire at once.
static constexpr TimerService::Clock::duration kNever = std::chrono::hours(24 * 365 * 100);

TimerService::Handle TimerService::run_after(Clock::duration delay, std::unique_ptr<TimerTask> task) {
  return add(now() + std::min(delay, kNever), Clock::duration::zero(), false, std::move(task));
}

TimerService::Handle TimerService::run_in_background(Clock::duration delay, std::unique_ptr<TimerTask> task) {
  return add(now() + std::min(delay, kNever), Clock::duration::zero(), true, std::move(task));
}

TimerService::Handle TimerService::run_every(Clock::duration period, std::unique_ptr<TimerTask> task) {
  if (period <= Clock::duration::zero()) period = std::chrono::microseconds(1);
  period = std::min(period, kNever);
  return add(now() + period, period, true, std::move(task));
}

TimerService::Handle TimerService::add(Clock::time_point due, Clock::duration period, bool background,
                                       std::unique_ptr<TimerTask> task) {
  auto entry = std::make_shared<Handle::Entry>();
  entry->cancelled_in_heap = &cancelled_in_heap_;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      entry->state.store(kCancelled, std::memory_order_relaxed);  // relaxed: not yet shared
      return Handle(std::move(entry));
    }
  }
  entry->due = due;
  entry->period = period;
  entry->task = std::move(task);
  entry->background = background;
  entry->holds = background ? nullptr : scheduler_;
  if (entry->holds != nullptr) entry->holds->hold();
  bool earliest;
  {
    std::lock_guard lock(mutex_);
    entry->sequence = next_sequence_++;
    // Relaxed: only decides when to compact.
    if (heap_.size() >= 1024 && cancelled_in_heap_.load(std::memory_order_relaxed) > heap_.size() / 2) {
      compact_locked();
    }
    earliest = heap_.empty() || Later{}(heap_.front(), entry);
    push_locked(entry);
  }
  if (earliest) cv_.notify_one();
  return Handle(std::move(entry));
}

void TimerService::close() {
  std::vector<std::shared_ptr<Handle::Entry>> entries;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    entries.swap(heap_);
  }
  for (auto& entry : entries) Handle(std::move(entry)).cancel();
}

std::size_t TimerService::pending() const {
  std::lock_guard lock(mutex_);
  return heap_.size();
}

void TimerService::run() noexcept {
  const RuntimeThreadScope runtime_thread;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (heap_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto entry = heap_.front();
    if (entry->state.load(std::memory_order_acquire) != kPending) {  // cancelled: drop it
      pop_locked();
      // Relaxed: a statistic (see cancel()); never below zero.
      if (cancelled_in_heap_.load(std::memory_order_relaxed) > 0) {
        cancelled_in_heap_.fetch_sub(1, std::memory_order_relaxed);
      }
      continue;
    }
    if (entry->due > Clock::now()) {
      cv_.wait_until(lock, entry->due);
      continue;
    }
    pop_locked();
    fire_popped(lock, std::move(entry));
  }
}

void TimerService::fire_popped(std::unique_lock<std::mutex>& lock, std::shared_ptr<Handle::Entry> entry) noexcept {
  const bool one_shot = entry->period == Clock::duration::zero();
  lock.unlock();
  if (one_shot) {
    std::uint8_t expected = kPending;
    // Acq_rel: pairs with cancel(); only the winner fires and releases the hold.
    if (entry->state.compare_exchange_strong(expected, kDone, std::memory_order_acq_rel)) {
      entry->task->fire();
      if (entry->holds != nullptr) entry->holds->unhold();
    }
    lock.lock();
    return;
  }
  entry->task->fire();
  lock.lock();
  // Acquire: a cancel() during fire() stops the series here.
  if (entry->state.load(std::memory_order_acquire) == kPending) {
    // Keep the cadence; if we fell behind by more than a period, restart from now.
    entry->due += entry->period;
    if (entry->due < now_locked()) entry->due = now_locked() + entry->period;
    entry->sequence = next_sequence_++;
    push_locked(entry);
  }
}

TimerService::Clock::time_point TimerService::now() const {
  if (!manual_) return Clock::now();
  std::lock_guard lock(mutex_);
  return manual_now_;
}

std::optional<TimerService::Clock::time_point> TimerService::next_due(bool background_too) const {
  std::lock_guard lock(mutex_);
  std::optional<Clock::time_point> earliest;
  for (const auto& e : heap_) {  // O(n): a test's handful of timers
    // Acquire: pairs with cancel()'s transition.
    if (e->state.load(std::memory_order_acquire) != kPending) continue;
    if (!background_too && e->background) continue;
    if (!earliest || e->due < *earliest) earliest = e->due;
  }
  return earliest;
}

bool TimerService::fire_next(Clock::time_point limit) {
  std::unique_lock lock(mutex_);
  while (!heap_.empty()) {
    auto entry = heap_.front();
    // Acquire: pairs with cancel()'s transition.
    if (entry->state.load(std::memory_order_acquire) != kPending) {  // cancelled: drop it
      pop_locked();
      // Relaxed: a statistic (see cancel()); never below zero.
      if (cancelled_in_heap_.load(std::memory_order_relaxed) > 0) {
        cancelled_in_heap_.fetch_sub(1, std::memory_order_relaxed);
      }
      continue;
    }
    if (entry->due > limit) return false;
    pop_locked();
    manual_now_ = std::max(manual_now_, entry->due);
    fire_popped(lock, std::move(entry));
    return true;
  }
  return false;
}

void TimerService::advance_clock_to(Clock::time_point to) {
  std::lock_guard lock(mutex_);
  manual_now_ = std::max(manual_now_, to);
}

}  // namespace troupe::runtime
