#include <troupe/runtime/idle_spin.hpp>

#include "machine_load.hpp"

#include <sched.h>

#include <algorithm>

namespace troupe::runtime {

// Not inline: keeps <sched.h> out of the header users include.
void IdleSpin::yield_cpu() noexcept { ::sched_yield(); }

bool AdaptiveSpin::paused() noexcept {
  if (skip_spells_ > 0) {
    --skip_spells_;
    return true;
  }
  if (watch_machine_ && detail::machine_oversubscribed()) return true;
  // Reading the clock costs far less than the spin it may save; a pause past is simply over.
  return contended_until_ != Clock::time_point{} && Clock::now() < contended_until_;
}

void AdaptiveSpin::SpinMark::count_once() noexcept {
  detail::SpinningBoard* board = detail::process_spinning_board();
  if (board == nullptr) {
    counted_ = false;  // no board: never try again for this spin
    return;
  }
  slot_ = &board->slot();
  // Relaxed: a count read as a hint (machine_load.hpp).
  board->slot().spinning.fetch_add(1, std::memory_order_relaxed);
}

void AdaptiveSpin::SpinMark::uncount() noexcept {
  static_cast<detail::SpinningBoard::Slot*>(slot_)->spinning.fetch_sub(1, std::memory_order_relaxed);
}

void AdaptiveSpin::record(IdleSpin::Outcome outcome) noexcept {
  switch (outcome) {
    case IdleSpin::Outcome::found:
      // It paid: spin freely again, and the next contention starts from the shortest pause.
      misses_ = 0;
      miss_pause_ = 1;
      contended_pause_ = kFirstContendedPause;
      return;
    case IdleSpin::Outcome::timed_out:
      if (++misses_ < kMissesBeforePause) return;
      // Several budgets spent for nothing: sleep through the next idle spells; the first spin
      // after them is a probe, and if it misses too the pause doubles.
      misses_ = kMissesBeforePause - 1;
      skip_spells_ = miss_pause_;
      miss_pause_ = std::min(miss_pause_ * 2, kMaxMissPause);
      return;
    case IdleSpin::Outcome::contended:
      contended_until_ = Clock::now() + contended_pause_;
      contended_pause_ = std::min<Clock::duration>(contended_pause_ * 2, kMaxContendedPause);
      return;
  }
}

}  // namespace troupe::runtime
