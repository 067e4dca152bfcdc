// Which turns an executor thread samples for the metrics (ActorCore::resume_sampled): one in
// about ActorCore::kSampledTurnPeriod, at gaps drawn from [3/4, 5/4] of it rather than every
// period-th turn. A fixed power-of-two period aliases with any workload whose turns cycle in an
// even number of actors: in a ping-pong, turns alternate between the two actors, and the one whose
// turns are odd would never be sampled (its type would show no handling times at all).
//
// A countdown: a sampled turn costs a draw, every other turn one decrement and branch.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/xorshift.hpp>

#include <cstdint>

namespace troupe::runtime::detail {

class TurnSampler {
 public:
  // Any seed but 0 (xorshift stays at 0), which is replaced.
  explicit TurnSampler(std::uint32_t seed = 0x9e3779b9u) noexcept : rng_(seed != 0 ? seed : 0x9e3779b9u) {}

  // Whether the turn about to run is sampled.
  bool next() noexcept {
    if (--left_ != 0) [[likely]]
      return false;
    left_ = next_gap();
    return true;
  }

 private:
  static constexpr std::uint32_t kPeriod = static_cast<std::uint32_t>(ActorCore::kSampledTurnPeriod);
  std::uint32_t next_gap() noexcept { return kPeriod - kPeriod / 4 + xorshift32(rng_) % (kPeriod / 2 + 1); }

  std::uint32_t rng_;
  std::uint32_t left_ = kPeriod;  // the first sample comes after a whole period
};

}  // namespace troupe::runtime::detail
