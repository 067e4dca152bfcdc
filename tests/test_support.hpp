// Helpers shared by the troupe tests.
#pragma once

#include "vector_string.hpp"

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

// Whether this test is built with a sanitizer (TROUPE_TEST_SANITIZED, cmake/TroupeTesting.cmake).
#ifdef TROUPE_TEST_SANITIZED
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// Heartbeats for the tests that need a silent node seen quickly (NodeConfig::heartbeat_interval
// and heartbeat_timeout; node_peer's --heartbeat-ms, whose timeout is 4 intervals). The timeout
// must be far longer than any stall of a live process: on a loaded 2-core machine a process can
// miss its CPU for a few hundred milliseconds, and a sanitizer build several times that, which
// with the timeout of 400-500 ms these tests once had was a spurious node-down.
inline constexpr std::chrono::milliseconds heartbeat_interval = sanitized ? 1250ms : 500ms;
inline constexpr std::chrono::milliseconds heartbeat_timeout = 4 * heartbeat_interval;
// How long a test waits for what a heartbeat timeout must bring (a node-down): only bounds a
// failing test.
inline constexpr std::chrono::milliseconds heartbeat_wait = 6 * heartbeat_timeout;

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
