// A model of CPython's global interpreter lock (the "new GIL" of CPython 3.2+, Python/ceval_gil.h,
// ceval_gil.c since 3.12), so that C++ threads can be made to run "interpreter work" the way
// CPython's threads do.
//
// The rules, as in CPython:
//  - A thread must hold the GIL to run interpreter work (take() ... drop(), or a Gil::Held scope).
//  - A thread that wants the GIL waits on a condition variable for at most the switch interval
//    (5 ms by default, sys.setswitchinterval). If it timed out and no switch happened meanwhile,
//    it sets the drop request (SET_GIL_DROP_REQUEST) and waits again.
//  - The holder polls the drop request at its "eval-breaker" checks (check(): CPython tests
//    eval_breaker at backward jumps and calls, i.e. every few bytecodes). When set, it drops the
//    GIL and takes it again (handle_eval_breaker: drop_gil(); take_gil()).
//  - Forced switching (FORCE_SWITCHING): a thread that drops the GIL because of a drop request
//    waits until another thread has actually taken it (last_holder changed), so it cannot grab it
//    straight back. The GIL goes to a waiter — whichever the condition variable wakes; CPython
//    promises no strict FIFO order among several waiters, and neither does this model.
//  - Blocking I/O is done with the GIL released (Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS):
//    a Gil::Released scope.
//
// The effect, which the contrast measures: CPU-bound threads take turns on one core's worth of
// progress however many cores there are, while I/O-bound threads overlap their waiting.
//
// Traced (troupe/runtime/trace.hpp), one span per period, not per check: each time a thread held
// the GIL is a `work` span, each time it waited for it (in take(), or in drop() for the handover
// of a forced switch) a `wait_lock` span.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <troupe/runtime/trace.hpp>

namespace contrast {

class Gil {
 public:
  explicit Gil(std::chrono::microseconds switch_interval = std::chrono::milliseconds(5));
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

  // take_gil(): blocks until this thread holds the GIL.
  void take();
  // drop_gil(): releases it; with a drop request pending, waits until another thread took it.
  void drop();
  // The eval-breaker check: if another thread asked for the GIL, hand it over and take it back.
  // Call it often while holding the GIL (the model's "every few bytecodes").
  void check() {
    // relaxed: a hint only, as CPython's _Py_atomic_load_relaxed(&eval_breaker); the handoff
    // itself is ordered by the mutexes in drop() and take().
    if (drop_request_.load(std::memory_order_relaxed)) yield();
  }

  // RAII: holds the GIL for a scope (a thread running Python code).
  class Held {
   public:
    explicit Held(Gil& gil) : gil_(gil) { gil_.take(); }
    ~Held() { gil_.drop(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    Gil& gil_;
  };
  // RAII: releases a held GIL for a scope (Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS).
  class Released {
   public:
    explicit Released(Gil& gil) : gil_(gil) { gil_.drop(); }
    ~Released() { gil_.take(); }
    Released(const Released&) = delete;
    Released& operator=(const Released&) = delete;

   private:
    Gil& gil_;
  };

  // Statistics, for tests and reports.
  std::uint64_t switches() const;       // times the GIL went to a different thread
  std::uint64_t drop_requests() const;  // times a waiter set the drop request
  int max_concurrent_holders() const;   // must stay 1: the GIL's whole point

 private:
  void yield();

  const std::chrono::microseconds interval_;

  // gil->mutex and gil->cond: `locked` and the switch count, and waking waiters.
  mutable std::mutex mutex_;
  std::condition_variable cond_;
  bool locked_ = false;
  std::uint64_t switch_number_ = 0;
  std::uint64_t drop_request_count_ = 0;

  // gil->switch_mutex and gil->switch_cond: last_holder, for forced switching.
  std::mutex switch_mutex_;
  std::condition_variable switch_cond_;
  std::thread::id last_holder_;

  // Tracing: when the holder took the GIL, and whether it records its hold. Written by the thread
  // that takes the GIL, read by the same thread when it drops it: guarded by holding the GIL.
  troupe::runtime::trace::Clock::time_point held_since_{};
  bool tracing_hold_ = false;

  // gil_drop_request (CPython keeps it in the eval breaker).
  std::atomic<bool> drop_request_{false};

  // Threads inside take()..drop() at once, and the most ever seen.
  std::atomic<int> holders_{0};
  std::atomic<int> max_holders_{0};
};

}  // namespace contrast
