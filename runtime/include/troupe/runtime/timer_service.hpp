// Timers: run a task once after a delay, or periodically, until cancelled. One thread sleeps
// until the earliest due time, so a long-running actor never delays a timer. Or, for
// deterministic tests, a manual clock: no thread, and time moves only when the owner fires the
// next timer (fire_next) or moves the clock (advance_clock_to).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace troupe::runtime {

class Scheduler;

class TimerTask {
 public:
  virtual ~TimerTask() = default;
  // Runs on the timer thread (or, with a manual clock, the thread that calls fire_next); must not
  // block (actors layer: it sends a message).
  virtual void fire() noexcept = 0;
};

class TimerService {
 public:
  using Clock = std::chrono::steady_clock;

  // A cancellable timer. Copies share the timer; destroying a handle does not cancel it.
  class Handle {
   public:
    Handle() = default;
    // Returns true if this call stopped the timer before it (last) fired.
    bool cancel() noexcept;
    bool active() const noexcept;

   private:
    friend class TimerService;
    struct Entry;
    explicit Handle(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {}
    std::shared_ptr<Entry> entry_;
  };

  // Pending one-shot timers hold `scheduler` out of quiescence. Background timers do not: the
  // periodic ones, and one-shots run with run_in_background (either would keep it busy forever).
  explicit TimerService(Scheduler* scheduler = nullptr);
  // A manual clock: now() starts at Clock::time_point{} and no thread is started.
  struct ManualClock {};
  explicit TimerService(ManualClock);
  ~TimerService();  // cancels everything still pending and joins the thread
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  Handle run_after(Clock::duration delay, std::unique_ptr<TimerTask> task);
  Handle run_every(Clock::duration period, std::unique_ptr<TimerTask> task);
  // A one-shot timer in the background, as a periodic one is: it neither holds the scheduler out
  // of quiescence nor counts for next_due(false). For a timer that re-arms itself for as long as
  // its owner lives (an actor's receive timeout): waiting for it would be waiting for ever.
  Handle run_in_background(Clock::duration delay, std::unique_ptr<TimerTask> task);

  std::size_t pending() const;
  // Cancels every pending timer, and every timer added later (used at shutdown).
  void close();

  // The clock timers are due on: Clock::now(), or the manual clock.
  Clock::time_point now() const;
  bool manual() const noexcept { return manual_; }
  // The due time of the earliest pending timer (one-shot timers not in the background only,
  // unless `background_too`).
  std::optional<Clock::time_point> next_due(bool background_too) const;
  // Manual clock only. Fires the earliest pending timer if it is due at or before `limit`,
  // on the calling thread, moving now() to its due time; returns whether one fired.
  bool fire_next(Clock::time_point limit);
  // Manual clock only. Moves now() forward to `to` (never back). Fires nothing: fire what is due
  // before `to` with fire_next(to) first.
  void advance_clock_to(Clock::time_point to);

 private:
  Handle add(Clock::time_point due, Clock::duration period, bool background, std::unique_ptr<TimerTask> task);
  void run() noexcept;
  // Fires an entry just popped from the heap, unlocked, and re-arms it if it is periodic.
  void fire_popped(std::unique_lock<std::mutex>& lock, std::shared_ptr<Handle::Entry> entry) noexcept;
  Clock::time_point now_locked() const { return manual_ ? manual_now_ : Clock::now(); }

  struct Later {
    bool operator()(const std::shared_ptr<Handle::Entry>& a, const std::shared_ptr<Handle::Entry>& b) const noexcept;
  };

  void push_locked(std::shared_ptr<Handle::Entry> entry);
  std::shared_ptr<Handle::Entry> pop_locked();
  void compact_locked();

  Scheduler* scheduler_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  // A binary heap (std::push_heap / pop_heap with Later): the earliest due time at the front.
  std::vector<std::shared_ptr<Handle::Entry>> heap_;
  // Cancelled entries still in the heap. A request's timeout is cancelled as soon as its reply
  // comes, so without compaction a busy system would keep every timeout until it was due.
  std::atomic<std::size_t> cancelled_in_heap_{0};
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  bool closed_ = false;
  const bool manual_ = false;
  Clock::time_point manual_now_{};  // guarded by mutex_; manual clock only
  std::thread thread_;
};

}  // namespace troupe::runtime
