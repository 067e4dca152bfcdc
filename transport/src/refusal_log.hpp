// Rate limiting of the node's log lines about refused connections: a peer that connects again and
// again with a wrong secret, or garbage, would otherwise write one line per attempt. At most one
// line per address per interval; the next line after a quiet spell says how many went unlogged.
// Memory is bounded: at most `capacity` addresses are remembered. When the table is full, the
// addresses whose interval passed are forgotten (with their unlogged counts); if none did,
// refusals from addresses not in the table are limited together under one shared entry.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace troupe::transport::detail {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  // The shared entry of the addresses beyond `capacity`.
  static constexpr const char* kOtherAddresses = "other addresses";

  RefusalLog(Clock::duration interval, std::size_t capacity) : interval_(interval), capacity_(capacity) {}

  struct Verdict {
    std::string key;             // the address it was counted under (kOtherAddresses past capacity)
    std::uint64_t unlogged = 0;  // refusals under that key not logged since its last line
  };
  // A refusal of a connection from `key` at `now`: what to log with its line, or nothing while
  // the key had a line less than an interval ago.
  std::optional<Verdict> admit(const std::string& key, Clock::time_point now);

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    Clock::time_point logged;  // its last line
    std::uint64_t unlogged = 0;
  };
  void forget_quiet(Clock::time_point now);  // the entries whose interval passed (the table is full)

  const Clock::duration interval_;
  const std::size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace troupe::transport::detail
