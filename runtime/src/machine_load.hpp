// Whether the machine is oversubscribed: whether a thread that spins now would take a CPU from a
// thread that needs one.
//
// A spinning thread burns CPU time whether or not its yields are quick, and a fair scheduler
// charges that time to it: when it later sleeps and is woken for real work, it waits behind the
// busy threads that were charged less. On the 2-core build machine with two busy processes, a
// remote round trip took 290 µs (median of 7) with troupe's threads spinning while idle and 56 µs
// with none spinning; their yields were never slow, so no sign from inside the spin showed it.
// The sign is outside: the kernel's count of runnable threads. Spinners are runnable too, and on a
// quiet machine troupe's spinners (several per process while a message is in flight, in every
// troupe process) would make it look busy, so every troupe process counts its spinning threads on
// a board in shared memory that the others read (SpinningBoard).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace troupe::runtime::detail {

// True when the kernel's runnable threads (the fourth field of /proc/loadavg, "running/total"),
// less the spinning threads on the board, less the caller, would still fill every CPU online.
// Sampled at most once a millisecond by whichever thread of the process asks first; the rest read
// that sample. False where /proc/loadavg cannot be read. In a container the counts are the
// host's, which is what the CPUs are shared with.
bool machine_oversubscribed() noexcept;

// The number of runnable threads in a /proc/loadavg line ("0.12 0.30 0.25 3/219 4242"), or -1.
long runnable_threads_in_loadavg(const char* line) noexcept;

// A page of shared memory (shm_open, mode 0600) with one slot per troupe process of the user: the
// number of the process's threads spinning now, and when the process last looked at the board.
// A slot not looked at for kStaleMs (its process died, or has not spun for that long) counts
// nothing and may be claimed by another process. Every field is a count or a time read as a hint:
// all accesses are relaxed, as nothing else is published through them.
class SpinningBoard {
 public:
  static constexpr int kSlots = 64;
  static constexpr std::int64_t kStaleMs = 1000;

  struct alignas(64) Slot {  // one cache line each: a process's spinners touch only their own
    std::atomic<std::int32_t> pid{0};
    std::atomic<std::int32_t> spinning{0};
    std::atomic<std::int64_t> seen_ms{0};  // CLOCK_MONOTONIC, the same in every process
  };

  // Opens (or creates) the board named `name` ("/troupe-spinning-UID" for the process's own) and
  // claims a slot for this process. valid() is false where shared memory is unavailable, the
  // board belongs to another user, or every slot is taken.
  explicit SpinningBoard(const std::string& name) noexcept;
  ~SpinningBoard();
  SpinningBoard(const SpinningBoard&) = delete;
  SpinningBoard& operator=(const SpinningBoard&) = delete;

  bool valid() const noexcept { return slot_ != nullptr; }
  // This process's slot, to count its spinners in (valid() only).
  Slot& slot() noexcept { return *slot_; }
  // Marks this process's slot as looked at now, and returns the spinners of every fresh slot.
  long spinning_now() noexcept;

  static std::int64_t now_ms() noexcept;

 private:
  Slot* slots_ = nullptr;
  Slot* slot_ = nullptr;
};

// The process's board (the user's), opened on first use: null where it is not valid.
SpinningBoard* process_spinning_board() noexcept;

}  // namespace troupe::runtime::detail
