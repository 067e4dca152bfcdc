// The GIL model's two operations, line by line after CPython's take_gil() and drop_gil()
// (Python/ceval_gil.h in 3.2-3.11, Python/ceval_gil.c since 3.12).
#include "gil.hpp"

namespace contrast {

Gil::Gil(std::chrono::microseconds switch_interval)
    : interval_(switch_interval.count() >= 1 ? switch_interval : std::chrono::microseconds(1)) {}

namespace trace = troupe::runtime::trace;

void Gil::take() {
  const std::thread::id me = std::this_thread::get_id();
  const bool tracing = trace::enabled();
  const trace::Clock::time_point asked = tracing ? trace::Clock::now() : trace::Clock::time_point{};
  bool waited = false;
  std::unique_lock lock(mutex_);  // MUTEX_LOCK(gil->mutex)
  while (locked_) {
    waited = true;
    const std::uint64_t saved_switch_number = switch_number_;
    // COND_TIMED_WAIT(gil->cond, gil->mutex, interval, timed_out)
    const bool timed_out = cond_.wait_for(lock, interval_) == std::cv_status::timeout;
    // "If we timed out and no switch occurred in the meantime, it is time to ask the
    // GIL-holding thread to drop it."
    if (timed_out && locked_ && switch_number_ == saved_switch_number) {
      // relaxed: see check(); the holder acts on it at its next eval-breaker check.
      drop_request_.store(true, std::memory_order_relaxed);  // SET_GIL_DROP_REQUEST
      ++drop_request_count_;
    }
  }
  {
    // FORCE_SWITCHING: last_holder changes under switch_mutex, and the thread that dropped the
    // GIL on request is told it has been taken.
    std::lock_guard switch_lock(switch_mutex_);
    locked_ = true;
    // acq_rel: pairs with the decrement in drop() so max_holders_ sees any overlap.
    const int now = holders_.fetch_add(1, std::memory_order_acq_rel) + 1;
    int seen = max_holders_.load(std::memory_order_relaxed);  // relaxed: a statistic only
    while (now > seen && !max_holders_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
    if (last_holder_ != me) {
      last_holder_ = me;
      ++switch_number_;
    }
    switch_cond_.notify_all();  // COND_SIGNAL(gil->switch_cond)
  }
  // The clock is read under gil->mutex, as in drop(): one thread's hold span ends before the next
  // thread's begins, so the trace shows the holds of different threads never overlapping.
  tracing_hold_ = tracing;
  if (tracing) {
    held_since_ = trace::Clock::now();
    if (waited) trace::record(trace::SpanKind::wait_lock, "waits for the GIL", asked, held_since_);
  }
  // relaxed: the request was for whoever held the GIL before; this thread has it now.
  drop_request_.store(false, std::memory_order_relaxed);  // RESET_GIL_DROP_REQUEST
}

void Gil::drop() {
  const std::thread::id me = std::this_thread::get_id();
  {
    std::lock_guard lock(mutex_);
    if (tracing_hold_) trace::record(trace::SpanKind::work, "holds the GIL", held_since_, trace::Clock::now());
    // acq_rel: pairs with the increment in take().
    holders_.fetch_sub(1, std::memory_order_acq_rel);
    locked_ = false;
    cond_.notify_one();  // COND_SIGNAL(gil->cond): wake one waiter
  }
  // FORCE_SWITCHING: dropped because someone asked? Then wait until they have it, so this
  // thread cannot take it straight back at its next take().
  if (drop_request_.load(std::memory_order_relaxed)) {  // relaxed: see check()
    std::unique_lock switch_lock(switch_mutex_);
    if (last_holder_ == me) {
      drop_request_.store(false, std::memory_order_relaxed);  // RESET_GIL_DROP_REQUEST
      const trace::Span span(trace::SpanKind::wait_lock, "waits for the GIL's handover");
      switch_cond_.wait(switch_lock, [&] { return last_holder_ != me; });
    }
  }
}

void Gil::yield() {
  // handle_eval_breaker(): "Give another thread a chance".
  drop();
  take();
}

std::uint64_t Gil::switches() const {
  std::lock_guard lock(mutex_);
  return switch_number_;
}

std::uint64_t Gil::drop_requests() const {
  std::lock_guard lock(mutex_);
  return drop_request_count_;
}

int Gil::max_concurrent_holders() const {
  return max_holders_.load(std::memory_order_relaxed);  // relaxed: read after the threads joined
}

}  // namespace contrast
