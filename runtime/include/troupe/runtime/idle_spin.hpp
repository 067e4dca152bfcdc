// Spinning a short while before sleeping.
//
// A thread that runs out of work and sleeps must be woken by whoever brings the next piece, and
// on a virtual machine whose idle vCPUs halt, that wake-up costs tens of microseconds (measured:
// a loopback TCP round trip between two blocking processes takes 50 µs on the 2-core build VM, and
// 7 µs between two polling ones). A thread that keeps looking for a while after its last piece of
// work picks up the next one without any wake-up; BEAM's schedulers busy-wait the same way before
// they sleep. Between looks the spinner yields its CPU, so a spinner never keeps a runnable thread
// of the same CPU waiting (without the yield, spinners on a 2-core machine delayed the threads
// they were waiting for, and round trips got four times slower).
#pragma once

#include <chrono>

namespace troupe::runtime {

class IdleSpin {
 public:
  using Clock = std::chrono::steady_clock;

  // budget: how long to keep looking; zero or less never spins.
  explicit IdleSpin(std::chrono::microseconds budget) noexcept : budget_(budget) {}

  // Calls `found()` until it returns true (then true) or the budget has passed (then false).
  // The budget restarts from now on each call.
  template <class Found>
  bool until(Found&& found) const {
    if (budget_.count() <= 0) return false;
    const auto deadline = Clock::now() + budget_;
    for (;;) {
      if (found()) return true;
      if (Clock::now() >= deadline) return false;
      yield_cpu();
    }
  }

 private:
  static void yield_cpu() noexcept;

  std::chrono::microseconds budget_;
};

}  // namespace troupe::runtime
