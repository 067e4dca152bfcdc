// Spinning a short while before sleeping, and only while it pays.
//
// A thread that runs out of work and sleeps must be woken by whoever brings the next piece, and
// on a virtual machine whose idle vCPUs halt, that wake-up costs tens of microseconds (measured:
// a loopback TCP round trip between two blocking processes takes 50 µs on the 2-core build VM, and
// 7 µs between two polling ones). A thread that keeps looking for a while after its last piece of
// work picks up the next one without any wake-up; BEAM's schedulers busy-wait the same way before
// they sleep. Between looks the spinner yields its CPU, so a spinner never keeps a runnable thread
// of the same CPU waiting (without the yield, spinners on a 2-core machine delayed the threads
// they were waiting for, and round trips got four times slower).
//
// A spin can also cost more than it saves (AdaptiveSpin):
//   - When nothing comes within the budget, the budget's CPU time was spent for nothing. After a
//     few such misses in a row the spinner stops spinning for a number of idle spells that
//     doubles with each probe that misses again, as Go's scheduler gives up spinning when it
//     keeps finding nothing.
//   - When the machine is oversubscribed, a spinner takes a CPU that a runnable thread waits
//     for, often the very thread that would bring the work, and a yield hands the CPU to a thread
//     that does not yield back (a busy process) for a whole time slice, milliseconds. A sleeper
//     is woken the moment the work comes, with the scheduler's preference for threads that slept.
//     Two signs stop the spin. Before each spin: the kernel counts enough runnable threads,
//     spinners aside, to fill every CPU (machine_load.hpp, sampled at most once a millisecond);
//     then it does not spin at all. During a spin: a yield took longer than kContendedYield; then
//     it stops at once, sleeps, and does not spin again for a while that doubles (up to
//     kMaxContendedPause). The first sign is the one that works on today's Linux scheduler
//     (EEVDF), where a spinner's yields stay quick on a busy machine while the CPU time it burns
//     makes its later wake-ups wait: see machine_load.hpp for the measurements.
#pragma once

#include <chrono>
#include <cstdint>

namespace troupe::runtime {

class IdleSpin {
 public:
  using Clock = std::chrono::steady_clock;

  // budget: how long to keep looking; zero or less never spins.
  explicit IdleSpin(std::chrono::microseconds budget) noexcept : budget_(budget) {}

  enum class Outcome : std::uint8_t {
    found,      // found() returned true
    timed_out,  // the budget passed
    contended,  // a yield took longer than `contended_yield`: another thread held the CPU
  };

  // Calls `found()` until it returns true (then true) or the budget has passed (then false).
  // The budget restarts from now on each call.
  template <class Found>
  bool until(Found&& found) const {
    return look(found, Clock::duration::max()) == Outcome::found;
  }

  // As until(), and also stops after a yield that took longer than `contended_yield` (after
  // which it looks no more: the caller sleeps).
  // `spent`, if given, gets how long it looked, as the clock reads it already took (to within one
  // look: a spin that finds work at once reports zero), for the pool's metrics.
  template <class Found>
  Outcome look(Found&& found, Clock::duration contended_yield, Clock::duration* spent = nullptr) const {
    if (budget_.count() <= 0) return Outcome::timed_out;
    const auto start = Clock::now();
    auto now = start;
    const auto deadline = now + budget_;
    const auto report = [&](Outcome outcome) {
      if (spent != nullptr) *spent = now - start;
      return outcome;
    };
    for (;;) {
      if (found()) return report(Outcome::found);
      // One clock read a look, as a plain spin needs anyway: the time since the last read is one
      // yield and one look that found nothing, which is cheap (a look that does long work, such
      // as handling a large frame, finds something and has returned above).
      const auto last = now;
      now = Clock::now();
      if (now >= deadline) return report(Outcome::timed_out);
      if (now - last > contended_yield) return report(Outcome::contended);
      yield_cpu();
    }
  }

  std::chrono::microseconds budget() const noexcept { return budget_; }

 private:
  static void yield_cpu() noexcept;

  std::chrono::microseconds budget_;
};

// An IdleSpin that stops spinning where spinning does not pay (see the top of this file). One per
// spinning site, used by one thread at a time (the caller orders hand-overs between threads).
class AdaptiveSpin {
 public:
  using Clock = IdleSpin::Clock;

  // Misses in a row before the spinner pauses, and the longest pause in idle spells.
  static constexpr std::uint32_t kMissesBeforePause = 4;
  static constexpr std::uint32_t kMaxMissPause = 64;
  // A yield that returns later than this was a time slice of some other thread, not a look.
  static constexpr std::chrono::microseconds kContendedYield{200};
  static constexpr std::chrono::milliseconds kFirstContendedPause{10};
  static constexpr std::chrono::milliseconds kMaxContendedPause{1000};

  // adaptive = false: an IdleSpin that never pauses. The other two turn one sign each off, for
  // tests of the others: `contended_yield` (Clock::duration::max(): no yield is too long) and
  // `watch_machine` (false: the run queue is not consulted).
  explicit AdaptiveSpin(std::chrono::microseconds budget, bool adaptive = true,
                        Clock::duration contended_yield = kContendedYield, bool watch_machine = true) noexcept
      : spin_(budget), adaptive_(adaptive), watch_machine_(adaptive && watch_machine), contended_yield_(contended_yield) {}

  // As IdleSpin::until, or false at once while spinning is paused. `spent`: as IdleSpin::look.
  template <class Found>
  bool until(Found&& found, Clock::duration* spent = nullptr) {
    if (spent != nullptr) *spent = Clock::duration::zero();
    if (spin_.budget().count() <= 0) return false;
    if (!adaptive_) return spin_.look(found, Clock::duration::max(), spent) == IdleSpin::Outcome::found;
    if (paused()) return false;
    IdleSpin::Outcome outcome;
    {
      // Counted as spinning from its first miss on: a spin that finds work at its first look (most
      // of them, where workers are busy) never touches the board's shared line, and is too short
      // for a sample to see anyway.
      SpinMark mark(watch_machine_);
      outcome = spin_.look(
          [&] {
            if (found()) return true;
            mark.count();
            return false;
          },
          contended_yield_, spent);
    }
    record(outcome);
    return outcome == IdleSpin::Outcome::found;
  }

  // What it has learned, for tests and traces.
  std::uint32_t misses_in_a_row() const noexcept { return misses_; }
  bool pausing() const noexcept { return skip_spells_ > 0 || Clock::now() < contended_until_; }

 private:
  bool paused() noexcept;
  void record(IdleSpin::Outcome outcome) noexcept;

  // Counts the thread as spinning while it lives (when `counted`), so that other troupe threads
  // and processes do not take this spin for a busy thread (machine_load.hpp).
  struct SpinMark {
    explicit SpinMark(bool counted) noexcept : counted_(counted) {}
    ~SpinMark() {
      if (slot_ != nullptr) uncount();
    }
    SpinMark(const SpinMark&) = delete;
    SpinMark& operator=(const SpinMark&) = delete;
    void count() noexcept {
      if (counted_ && slot_ == nullptr) count_once();
    }

   private:
    void count_once() noexcept;
    void uncount() noexcept;
    bool counted_;
    void* slot_ = nullptr;
  };

  IdleSpin spin_;
  bool adaptive_;
  bool watch_machine_;  // whether an oversubscribed machine (machine_load.hpp) stops the spin
  Clock::duration contended_yield_;
  std::uint32_t misses_ = 0;       // spins in a row that found nothing
  std::uint32_t skip_spells_ = 0;  // idle spells left to sleep through without spinning
  std::uint32_t miss_pause_ = 1;   // the next pause after misses, in idle spells
  Clock::time_point contended_until_{};
  Clock::duration contended_pause_ = kFirstContendedPause;
};

}  // namespace troupe::runtime
