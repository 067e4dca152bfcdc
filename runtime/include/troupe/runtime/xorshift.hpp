// xorshift32: the runtime's cheap random numbers (a worker's choice of victim to steal from, the
// gaps between sampled turns), where spread is all that is asked of them. `state` must not be 0.
#pragma once

#include <cstdint>

namespace troupe::runtime::detail {

inline std::uint32_t xorshift32(std::uint32_t& state) noexcept {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

}  // namespace troupe::runtime::detail
