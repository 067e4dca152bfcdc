// Helpers shared by the troupe tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#ifndef TROUPE_TEST_SCALE_DIVISOR
#define TROUPE_TEST_SCALE_DIVISOR 1
#endif

namespace troupe_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Stress counts are divided under sanitizers (see cmake/TroupeTesting.cmake).
inline constexpr std::uint64_t scale_divisor = TROUPE_TEST_SCALE_DIVISOR;
constexpr std::uint64_t scaled(std::uint64_t n) { return n / scale_divisor > 0 ? n / scale_divisor : 1; }

// Polls `pred` until it holds or `timeout` passes; returns its last value. For conditions that
// other threads make true; the timeout only bounds a failing test.
template <class Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

inline std::chrono::milliseconds ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace troupe_test
