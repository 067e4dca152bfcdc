// The node's event counters (NodeStats): any thread adds to them, relaxed, because they are
// statistics, read without ordering against anything else. The gauges live with what they count
// (PendingRequests, Exports, ConnectionSet).
#pragma once

#include "refusal_cause.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace troupe::transport::detail {

struct NodeCounters {
  std::atomic<std::uint64_t> accepted{0};  // connections authenticated
  std::atomic<std::uint64_t> refused{0};   // connections refused before authentication (NodeLog::refuse)
  std::array<std::atomic<std::uint64_t>, kRefusalCauses> refused_by_cause{};  // the same, by RefusalCause
  std::atomic<std::uint64_t> failed{0};    // authenticated connections that ended in an error
  std::atomic<std::uint64_t> received{0};  // envelopes read from peers
  std::atomic<std::uint64_t> dead{0};      // messages for remote actors that never reached the wire

  static void add(std::atomic<std::uint64_t>& counter) noexcept {
    counter.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  }
  static std::uint64_t read(const std::atomic<std::uint64_t>& counter) noexcept {
    return counter.load(std::memory_order_relaxed);  // relaxed: a statistic
  }
};

}  // namespace troupe::transport::detail
