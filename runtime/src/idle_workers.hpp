// Parking and waking of idle workers (after Tokio's `idle.rs`).
//
// A worker that runs out of local work becomes "searching" (it tries the injection queue and
// steals). Whoever makes work available in a shared place calls notify_one(): if some worker is
// already searching it will find the work, so nobody is woken; otherwise one sleeper is woken.
//
// No lost wake-ups (a Dekker pattern on seq_cst fences): the notifier publishes its work, then
// fences, then reads the counters; a parker registers as sleeping, then fences, then re-checks
// every queue. Either the notifier sees the sleeper, or the parker sees the work.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace troupe::runtime::detail {

class IdleWorkers {
 public:
  explicit IdleWorkers(unsigned workers) : wake_flags_(workers), committed_flags_(workers, false) {
    sleepers_.reserve(workers);
  }

  // Searching: a worker without local work looks elsewhere.
  void begin_search() noexcept {
    // Seq_cst: part of the notifier/parker fence protocol (see the file comment).
    searching_.fetch_add(1, std::memory_order_seq_cst);
  }
  // Returns true if this was the last searcher (it then wakes another when it found work).
  bool end_search() noexcept {
    // Seq_cst: see begin_search.
    return searching_.fetch_sub(1, std::memory_order_seq_cst) == 1;
  }

  // At most one worker spins before parking (Worker::spin_for_work). Relaxed: only a limit on
  // how many spin; nothing is published through it (the spinner is counted as a searcher).
  bool try_claim_spinner() noexcept {
    return !spinner_.load(std::memory_order_relaxed) && !spinner_.exchange(true, std::memory_order_relaxed);
  }
  void release_spinner() noexcept { spinner_.store(false, std::memory_order_relaxed); }  // relaxed: as above

  // Called after making work available where other workers can take it.
  void notify_one() noexcept {
    // Seq_cst fence: orders the publication of the work before our reads of the counters
    // (pairs with the fence in the parker's re-check).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Relaxed loads, ordered by the fence above.
    if (searching_.load(std::memory_order_relaxed) != 0) return;
    if (sleeping_.load(std::memory_order_relaxed) == 0) return;
    wake_one();
  }

  void register_sleeper(unsigned index) {
    std::lock_guard lock(mutex_);
    sleepers_.push_back(index);
    // Seq_cst: the parker's half of the fence protocol.
    sleeping_.fetch_add(1, std::memory_order_seq_cst);
  }

  // After a re-check found work: leave the sleeper list if still on it. Returns false if a waker
  // already took us off: we are then counted as searching, and its wake flag must be consumed.
  bool unregister_sleeper(unsigned index) {
    std::lock_guard lock(mutex_);
    for (auto it = sleepers_.begin(); it != sleepers_.end(); ++it) {
      if (*it == index) {
        sleepers_.erase(it);
        sleeping_.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: as register_sleeper
        return true;
      }
    }
    return false;
  }

  // The re-check found nothing: count this worker as committed to sleep (for quiescence).
  void commit_sleep(unsigned index) {
    std::lock_guard lock(mutex_);
    for (unsigned s : sleepers_) {
      if (s == index) {
        committed_flags_[index] = true;
        // Release: pairs with the acquire load in committed().
        committed_.fetch_add(1, std::memory_order_release);
        return;
      }
    }
  }

  // Blocks the calling worker until woken. It wakes up counted as searching.
  void sleep(unsigned index) noexcept {
    auto& flag = wake_flags_[index].value;
    // Acquire: pairs with the release store in wake; we see what the waker published.
    while (flag.exchange(0, std::memory_order_acquire) == 0) flag.wait(0, std::memory_order_acquire);
  }

  // Wakes worker `index` if it sleeps (or is about to: it is on the list); otherwise nothing, and
  // it sees whatever the caller published before its next park (its re-check).
  void wake(unsigned index) noexcept {
    {
      std::lock_guard lock(mutex_);
      auto it = std::find(sleepers_.begin(), sleepers_.end(), index);
      if (it == sleepers_.end()) return;
      sleepers_.erase(it);
      count_woken(index);
    }
    signal(index);
  }

  void wake_all() noexcept {
    std::vector<unsigned> woken;
    {
      std::lock_guard lock(mutex_);
      woken.swap(sleepers_);
      for (unsigned s : woken) uncommit(s);
      sleeping_.store(0, std::memory_order_seq_cst);  // seq_cst: as register_sleeper
      // Every woken worker starts out searching (see wake_one).
      searching_.fetch_add(static_cast<std::uint32_t>(woken.size()), std::memory_order_seq_cst);
    }
    for (unsigned s : woken) signal(s);
  }

  unsigned committed() const noexcept {
    // Acquire: pairs with the release increment in commit_sleep.
    return committed_.load(std::memory_order_acquire);
  }

 private:
  struct alignas(64) WakeFlag {
    std::atomic<std::uint32_t> value{0};
  };

  void wake_one() noexcept {
    unsigned index;
    {
      std::lock_guard lock(mutex_);
      if (sleepers_.empty()) return;
      index = sleepers_.back();
      sleepers_.pop_back();
      count_woken(index);
    }
    signal(index);
  }

  // Under the mutex, for a worker just taken off the sleeper list to be woken: no longer a
  // sleeper, and searching from now on, so further notifies don't wake a second one.
  void count_woken(unsigned index) noexcept {
    uncommit(index);
    sleeping_.fetch_sub(1, std::memory_order_seq_cst);   // seq_cst: as register_sleeper
    searching_.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: as begin_search
  }

  void uncommit(unsigned index) noexcept {
    if (committed_flags_[index]) {
      committed_flags_[index] = false;
      // Release: pairs with the acquire load in committed().
      committed_.fetch_sub(1, std::memory_order_release);
    }
  }

  void signal(unsigned index) noexcept {
    auto& flag = wake_flags_[index].value;
    // Release: pairs with the acquire exchange in sleep.
    flag.store(1, std::memory_order_release);
    flag.notify_one();
  }

  alignas(64) std::atomic<std::uint32_t> searching_{0};
  alignas(64) std::atomic<std::uint32_t> sleeping_{0};
  std::atomic<std::uint32_t> committed_{0};
  alignas(64) std::atomic<bool> spinner_{false};
  std::mutex mutex_;
  std::vector<unsigned> sleepers_;
  std::vector<WakeFlag> wake_flags_;
  std::vector<bool> committed_flags_;
};

}  // namespace troupe::runtime::detail
