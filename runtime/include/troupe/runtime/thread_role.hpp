// Which threads belong to the runtime. Worker threads and the timer thread must never block on
// a user's behalf (a bounded mailbox's sender waits for room only on threads of its own).
#pragma once

namespace troupe::runtime {

// True on a worker thread or the timer thread.
bool on_runtime_thread() noexcept;

// Marks the calling thread as a runtime thread while it lives (at the top of the thread's loop).
class RuntimeThreadScope {
 public:
  RuntimeThreadScope() noexcept;
  ~RuntimeThreadScope();
  RuntimeThreadScope(const RuntimeThreadScope&) = delete;
  RuntimeThreadScope& operator=(const RuntimeThreadScope&) = delete;
};

}  // namespace troupe::runtime
