// What the flood tests share: peak memory of this process and of a peer, and senders on their
// own threads that each send a stream of numbered messages and then ask the receiver for its
// tally of that stream.
#pragma once

#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace transport_test {

// A field of /proc/PID/status in bytes ("VmHWM", "VmRSS"); 0 if unreadable. PID may be "self".
inline std::size_t status_bytes(const std::string& pid, const char* field) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(status, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return std::stoull(line.substr(n + 1)) * 1024;  // kB
  }
  return 0;
}

// How far a process's peak resident size rose above its resident size when this was made. The
// kernel's peak is reset for this process (clear_refs), so an earlier test's peak does not count;
// a peer's peak is its own from its start, which a fresh peer process makes the same thing.
class PeakRssGrowth {
 public:
  explicit PeakRssGrowth(std::string pid) : pid_(std::move(pid)) {
    if (pid_ == "self") std::ofstream("/proc/self/clear_refs") << "5";
    before_ = status_bytes(pid_, "VmRSS");
  }
  std::size_t bytes() const {
    const std::size_t peak = status_bytes(pid_, "VmHWM");
    return peak > before_ ? peak - before_ : 0;
  }

 private:
  std::string pid_;
  std::size_t before_ = 0;
};

// Starts `senders` threads; thread s calls send_all(s) and then asks `receiver` for its Tally of
// stream s. Returns each stream's tally, or nothing where the request failed.
inline std::vector<std::optional<TallyReply>> send_from_threads_then_tally(
    troupe::System& system, const troupe::DynamicHandle& receiver, std::uint32_t senders,
    const std::function<void(std::uint32_t)>& send_all, std::chrono::seconds tally_timeout) {
  std::vector<std::optional<TallyReply>> tallies(senders);
  std::vector<std::thread> threads;
  for (std::uint32_t s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {  // each thread writes only its own element
      send_all(s);
      troupe::ScopedActor asker(system);
      auto tally = asker.request<TallyReply>(receiver, Tally{s}, tally_timeout);
      if (tally.ok()) tallies[s] = *tally;
    });
  }
  for (auto& t : threads) t.join();
  return tallies;
}

}  // namespace transport_test
